//! `norm test --coverage` by article and paragraph: which paragraphs of the law's text a norm or
//! a finding cites, and which the law's README lists as "text only" with its reason. A paragraph
//! neither cited nor listed is flagged: the encoding has left it unexplained.

use norm_compiler::ir::Program;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What the README's "Text only" section lists: whole articles and single paragraphs.
#[derive(Debug, Default, PartialEq)]
pub struct TextOnly {
    pub articles: BTreeSet<u32>,
    pub paragraphs: BTreeSet<(u32, u32)>,
}

/// The README beside the law (`LAW/README.md`, else `LAW/../README.md`) that has a "Text only"
/// section, for the paths `norm test` was given.
pub fn find_readme(paths: &[PathBuf]) -> Option<(PathBuf, String)> {
    for p in paths {
        let dir = if p.is_dir() {
            p.clone()
        } else {
            p.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        for d in [Some(dir.as_path()), dir.parent()].into_iter().flatten() {
            let candidate = d.join("README.md");
            if let Ok(text) = std::fs::read_to_string(&candidate)
                && text.contains("Text only")
            {
                return Some((candidate, text));
            }
        }
    }
    None
}

/// Parses the "Text only" section: from the line naming it to the next `## ` heading, each
/// list item's `Art. N`, `Art. N(P)`, `Arts. N-M, K` before its colon (the reason after it may
/// cite other articles, which are not thereby text only).
pub fn text_only(readme: &str) -> TextOnly {
    let mut out = TextOnly::default();
    let mut inside = false;
    for line in readme.lines() {
        if line.contains("Text only") {
            inside = true;
            continue;
        } else if inside && line.starts_with("## ") {
            break;
        }
        if inside && let Some(item) = line.strip_prefix("- ") {
            let label = item.split(':').next().unwrap_or("");
            read_citations(label, &mut out);
        }
    }
    out
}

/// The citations on one line: after each `Art.` / `Arts.`, a list of `N`, `N(P)` or `N-M`
/// separated by commas or `and`.
fn read_citations(line: &str, out: &mut TextOnly) {
    let mut rest = line;
    while let Some(at) = rest.find("Art") {
        rest = rest.get(at + 3..).unwrap_or("");
        let Some(after) = rest.strip_prefix("s.").or_else(|| rest.strip_prefix('.')) else {
            continue;
        };
        let mut s = after;
        loop {
            s = s.trim_start();
            let (n, tail) = number(s);
            let Some(n) = n else { break };
            s = tail;
            if let Some(t) = s.strip_prefix('(') {
                let (p, t2) = number(t);
                match (p, t2.strip_prefix(')')) {
                    (Some(p), Some(t3)) => {
                        out.paragraphs.insert((n, p));
                        s = t3;
                    }
                    _ => {
                        out.articles.insert(n);
                        break;
                    }
                }
            } else if let Some(t) = s.strip_prefix('-').or_else(|| s.strip_prefix('–')) {
                let (m, t2) = number(t.trim_start());
                for a in n..=m.unwrap_or(n).max(n) {
                    out.articles.insert(a);
                }
                s = t2;
            } else {
                out.articles.insert(n);
            }
            let t = s.trim_start();
            if let Some(t) = t.strip_prefix(',') {
                s = t;
            } else if let Some(t) = t.strip_prefix("and ") {
                s = t;
            } else {
                break;
            }
        }
        rest = s;
    }
}

/// A leading decimal number and what follows it.
fn number(s: &str) -> (Option<u32>, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    match s.get(..end).and_then(|d| d.parse().ok()) {
        Some(n) => (Some(n), s.get(end..).unwrap_or("")),
        None => (None, s),
    }
}

/// One article's paragraphs: for each, the norms and findings that cite it.
pub struct ArticleCoverage {
    pub number: u32,
    pub paragraphs: u32,
    pub cited: BTreeMap<u32, Vec<String>>,
    /// Norms and findings that cite the article without a paragraph.
    pub whole: Vec<String>,
}

/// Per article with text, which paragraphs are cited. A norm or finding without a paragraph
/// in an article of one paragraph cites that paragraph.
pub fn by_paragraph(program: &Program) -> Vec<ArticleCoverage> {
    let mut arts: BTreeMap<u32, ArticleCoverage> = BTreeMap::new();
    for a in &program.articles {
        let e = arts.entry(a.number).or_insert(ArticleCoverage {
            number: a.number,
            paragraphs: 0,
            cited: BTreeMap::new(),
            whole: Vec::new(),
        });
        e.paragraphs = e.paragraphs.max(a.paragraph_count());
    }
    let mut cite = |article: Option<u32>, paragraph: Option<u32>, id: &str| {
        let Some(number) = article
            .and_then(|a| program.articles.get(a as usize))
            .map(|a| a.number)
        else {
            return;
        };
        let Some(e) = arts.get_mut(&number) else {
            return;
        };
        let p = paragraph.or((e.paragraphs == 1).then_some(1));
        match p {
            Some(p) => {
                let ids = e.cited.entry(p).or_default();
                if !ids.iter().any(|x| x == id) {
                    ids.push(id.to_string());
                }
            }
            None => {
                if !e.whole.iter().any(|x| x == id) {
                    e.whole.push(id.to_string());
                }
            }
        }
    };
    for n in &program.norms {
        cite(Some(n.article), n.paragraph, &n.id);
    }
    for d in &program.defs {
        if let Some(f) = d.finding {
            cite(d.article, f.paragraph, &d.name);
        }
    }
    arts.into_values().filter(|a| a.paragraphs > 0).collect()
}

/// Prints the coverage by paragraph; returns the paragraphs left unexplained (neither cited nor
/// listed as text only), as `Art. N(P)`.
pub fn print(program: &Program, readme: Option<&(PathBuf, String)>) -> Vec<String> {
    let listed = readme.map(|(_, t)| text_only(t)).unwrap_or_default();
    let mut unexplained = Vec::new();
    outln!("Coverage by paragraph (✓ cited by a norm or finding, · text only, ✗ neither):");
    for a in by_paragraph(program) {
        let mut marks = Vec::new();
        for p in 1..=a.paragraphs {
            let mark = if a.cited.contains_key(&p) {
                "✓"
            } else if listed.articles.contains(&a.number)
                || listed.paragraphs.contains(&(a.number, p))
            {
                "·"
            } else {
                unexplained.push(format!("Art. {}({p})", a.number));
                "✗"
            };
            marks.push(format!("({p}) {mark}"));
        }
        outln!("  Art. {}: {}", a.number, marks.join("  "));
    }
    match readme {
        Some((path, _)) if unexplained.is_empty() => outln!(
            "every paragraph is cited or listed as text only in {}",
            path.display()
        ),
        Some((path, _)) => outln!(
            "{} paragraph(s) neither cited nor listed as text only in {}: {}",
            unexplained.len(),
            path.display(),
            unexplained.join(", ")
        ),
        None => outln!(
            "{} paragraph(s) not cited by any norm or finding (no README with a \"Text only\" section beside the law): {}",
            unexplained.len(),
            unexplained.join(", ")
        ),
    }
    unexplained
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_only_reads_articles_paragraphs_and_ranges() {
        let readme = "# X\n**Text only**, deliberately (`Art. 9` in the intro is not listed):\n- Arts. 1, 4-8, 11 and Art. 13: principles\n- Art. 40(1), Art. 99(3) and 101(1): the List's purpose; see Art. 70 and Art. 52(2)\nA paragraph that cites Art. 71.\n## Running it\n- Art. 66: after the section\n";
        let t = text_only(readme);
        assert_eq!(
            t.articles.iter().copied().collect::<Vec<_>>(),
            vec![1, 4, 5, 6, 7, 8, 11, 13]
        );
        assert!(t.paragraphs.contains(&(40, 1)));
        assert!(t.paragraphs.contains(&(99, 3)));
        assert!(t.paragraphs.contains(&(101, 1)));
        // The reason after an item's colon, and text outside the list, list nothing.
        assert!(!t.articles.contains(&70) && !t.paragraphs.contains(&(52, 2)));
        assert!(!t.articles.contains(&71) && !t.articles.contains(&9));
        assert!(!t.articles.contains(&66), "after the next heading");
    }
}

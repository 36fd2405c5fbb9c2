//! The protocol's edge: requests in, [`features`] called on the latest analysis, responses
//! out. Nothing a client sends can make the server panic: URIs that are not files, positions
//! past the end of a document and documents the server never saw are answered with an empty
//! result or an `InvalidParams` error; a compilation that fails internally is an
//! `InternalError` for that request only.

use crate::features;
use crate::text::LineIndex;
use crate::workspace::{Analysis, Doc, Workspace, canonical, lock, uri_path};
use norm_compiler::span::FileId;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

pub struct Backend {
    pub client: Client,
    pub ws: Workspace,
}

/// What a position request is about: the analysis, the file in it, and the byte offset.
struct At {
    a: Arc<Analysis>,
    file: FileId,
    offset: usize,
}

fn past_end(pos: Position) -> Error {
    Error::invalid_params(format!(
        "position {}:{} is past the end of the document",
        pos.line, pos.character
    ))
}

impl Backend {
    pub fn new(client: Client) -> Backend {
        Backend {
            client,
            ws: Workspace::default(),
        }
    }

    /// The latest analysis of the law a document belongs to.
    async fn analysis(&self, uri: &Uri) -> Result<Option<(Arc<Analysis>, FileId)>> {
        let Some(path) = uri_path(uri) else {
            return Ok(None);
        };
        let Some(root) = self.ws.law_of(&path) else {
            return Ok(None);
        };
        let ws = self.ws.clone();
        let a = tokio::task::spawn_blocking(move || ws.analysis(&root))
            .await
            .map_err(|_| Error::internal_error())?;
        Ok(a.and_then(|a| a.file(&path).map(|f| (a, f))))
    }

    async fn at(&self, uri: &Uri, pos: Position) -> Result<Option<At>> {
        let Some((a, file)) = self.analysis(uri).await? else {
            return Ok(None);
        };
        let ix = a.line_index(file).ok_or_else(Error::internal_error)?;
        let offset = ix.offset(a.text(file), pos).ok_or_else(|| past_end(pos))?;
        Ok(Some(At { a, file, offset }))
    }

    /// Recompiles a law in the background and publishes its diagnostics, unless another edit
    /// comes first (then that edit's task does it).
    fn schedule(&self, root: PathBuf) {
        let generation = self.ws.generation(&root);
        let ws = self.ws.clone();
        let client = self.client.clone();
        tokio::spawn(async move {
            let (ws2, root2) = (ws.clone(), root.clone());
            let analysis = tokio::task::spawn_blocking(move || {
                if ws2.generation(&root2) != generation {
                    return None;
                }
                ws2.analysis(&root2)
            })
            .await
            .ok()
            .flatten();
            if let Some(a) = analysis {
                publish(&client, &ws, &root, &a).await;
            }
        });
    }
}

/// Publishes the diagnostics of every file of the law, and clears those of files that had
/// some and have none now. Older analyses than the last published are dropped.
pub async fn publish(client: &Client, ws: &Workspace, root: &Path, a: &Analysis) {
    let sends = {
        let mut st = lock(&ws.state);
        let mut open: Vec<&PathBuf> = st
            .docs
            .keys()
            .filter(|p| a.paths.contains_key(*p))
            .collect();
        open.sort();
        let fallback = open.first().map(|p| (*p).clone());
        let Some(law) = st.laws.get_mut(root) else {
            return;
        };
        if a.generation <= law.published_generation {
            return;
        }
        law.published_generation = a.generation;
        let mut diags = features::diagnostics(a, fallback.as_ref());
        let now: std::collections::HashSet<PathBuf> = diags.keys().cloned().collect();
        // Open documents always hear back, so that a client sees which version was checked.
        for p in a.versions.keys() {
            if a.paths.contains_key(p) {
                diags.entry(p.clone()).or_default();
            }
        }
        for old in law.published.iter() {
            if !now.contains(old) {
                diags.insert(old.clone(), Vec::new());
            }
        }
        law.published = now;
        diags
    };
    let mut sends: Vec<(PathBuf, Vec<Diagnostic>)> = sends.into_iter().collect();
    sends.sort_by(|x, y| x.0.cmp(&y.0));
    for (path, d) in sends {
        // A newer analysis took over: it publishes everything itself.
        let current = lock(&ws.state)
            .laws
            .get(root)
            .is_some_and(|l| l.published_generation == a.generation);
        if !current {
            return;
        }
        let uri = a
            .uris
            .get(&path)
            .cloned()
            .or_else(|| Uri::from_file_path(&path));
        if let Some(uri) = uri {
            let version = a.versions.get(&path).copied();
            client.publish_diagnostics(uri, d, version).await;
        }
    }
}

fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: features::TOKEN_TYPES.to_vec(),
        token_modifiers: features::TOKEN_MODIFIERS.to_vec(),
    }
}

pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                will_save: None,
                will_save_wait_until: None,
                save: None,
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        })),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".to_string()]),
            ..CompletionOptions::default()
        }),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                legend: legend(),
                full: Some(SemanticTokensFullOptions::Bool(true)),
                range: None,
                work_done_progress_options: WorkDoneProgressOptions::default(),
            },
        )),
        folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
        inlay_hint_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        code_lens_provider: Some(CodeLensOptions {
            resolve_provider: Some(false),
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: vec![features::RUN_TEST.to_string()],
            work_done_progress_options: WorkDoneProgressOptions::default(),
        }),
        ..ServerCapabilities::default()
    }
}

/// Applies one content change to a text (positions clamped to the text).
fn apply_change(text: &mut String, change: TextDocumentContentChangeEvent) {
    match change.range {
        None => *text = change.text,
        Some(range) => {
            let ix = LineIndex::new(text);
            let start = ix.offset_clamped(text, range.start);
            let end = ix.offset_clamped(text, range.end).max(start);
            if text.is_char_boundary(start) && text.is_char_boundary(end) {
                text.replace_range(start..end, &change.text);
            }
        }
    }
}

/// The client's workspace folders: `workspaceFolders`, else `rootUri`, else `rootPath`
/// (canonical paths; folders that are not files are left out).
fn workspace_folders(params: &InitializeParams) -> Vec<PathBuf> {
    if let Some(folders) = &params.workspace_folders
        && !folders.is_empty()
    {
        return folders.iter().filter_map(|f| uri_path(&f.uri)).collect();
    }
    #[allow(
        deprecated,
        reason = "clients that send no workspaceFolders send these"
    )]
    let root = match (&params.root_uri, &params.root_path) {
        (Some(uri), _) => uri_path(uri),
        (None, Some(path)) => Some(canonical(Path::new(path))),
        (None, None) => None,
    };
    root.into_iter().collect()
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        self.ws.set_folders(workspace_folders(&params));
        Ok(InitializeResult {
            capabilities: capabilities(),
            server_info: Some(ServerInfo {
                name: "norm-lsp".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            offset_encoding: None,
        })
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let d = params.text_document;
        let Some(path) = uri_path(&d.uri) else {
            return;
        };
        let root = self.ws.set_doc(
            path,
            Doc {
                uri: d.uri,
                text: d.text,
                version: d.version,
            },
        );
        self.schedule(root);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let Some(path) = uri_path(&params.text_document.uri) else {
            return;
        };
        // Applied before any await, so that changes are applied in the order they came.
        let Some(mut doc) = self.ws.doc(&path) else {
            return;
        };
        for change in params.content_changes {
            apply_change(&mut doc.text, change);
        }
        doc.version = params.text_document.version;
        let root = self.ws.set_doc(path, doc);
        self.schedule(root);
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let Some(path) = uri_path(&params.text_document.uri) else {
            return;
        };
        let root = {
            let mut st = lock(&self.ws.state);
            st.docs.remove(&path);
            st.roots.get(&path).cloned()
        };
        // The file on disk counts again.
        if let Some(root) = root {
            self.ws.touch(&path);
            self.schedule(root);
        }
    }

    async fn did_save(&self, _: DidSaveTextDocumentParams) {}

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        for c in params.changes {
            if let Some(p) = uri_path(&c.uri) {
                for root in self.ws.touch(&p) {
                    self.schedule(root);
                }
            }
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        let Some(at) = self.at(&p.text_document.uri, p.position).await? else {
            return Ok(None);
        };
        Ok(features::hover(&at.a, at.file, at.offset))
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        let Some(at) = self.at(&p.text_document.uri, p.position).await? else {
            return Ok(None);
        };
        let locs = features::definition(&at.a, at.file, at.offset);
        Ok(match locs.len() {
            0 => None,
            1 => locs.into_iter().next().map(GotoDefinitionResponse::Scalar),
            _ => Some(GotoDefinitionResponse::Array(locs)),
        })
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let p = params.text_document_position;
        let Some(at) = self.at(&p.text_document.uri, p.position).await? else {
            return Ok(None);
        };
        Ok(Some(features::references(
            &at.a,
            at.file,
            at.offset,
            params.context.include_declaration,
        )))
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        let Some(at) = self.at(&params.text_document.uri, params.position).await? else {
            return Ok(None);
        };
        match features::prepare_rename(&at.a, at.file, at.offset) {
            Ok(r) => Ok(Some(PrepareRenameResponse::Range(r))),
            Err(why) => Err(Error::invalid_params(why)),
        }
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let p = params.text_document_position;
        let Some(at) = self.at(&p.text_document.uri, p.position).await? else {
            return Ok(None);
        };
        features::rename(&at.a, at.file, at.offset, &params.new_name)
            .map(Some)
            .map_err(Error::invalid_params)
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let Some((a, file)) = self.analysis(&params.text_document.uri).await? else {
            return Ok(None);
        };
        Ok(Some(DocumentSymbolResponse::Nested(
            features::document_symbols(&a, file),
        )))
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        let roots: Vec<PathBuf> = lock(&self.ws.state).laws.keys().cloned().collect();
        let mut out = Vec::new();
        for root in roots {
            let ws = self.ws.clone();
            let a = tokio::task::spawn_blocking(move || ws.analysis(&root))
                .await
                .map_err(|_| Error::internal_error())?;
            if let Some(a) = a {
                out.extend(features::workspace_symbols(&a, &params.query));
            }
        }
        Ok(Some(WorkspaceSymbolResponse::Nested(out)))
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        let Some(at) = self.at(&p.text_document.uri, p.position).await? else {
            return Ok(None);
        };
        let items = features::completion(&at.a, at.a.text(at.file), at.offset);
        Ok(Some(CompletionResponse::Array(items)))
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        let Some((a, file)) = self.analysis(&params.text_document.uri).await? else {
            return Ok(None);
        };
        Ok(Some(SemanticTokensResult::Tokens(SemanticTokens {
            result_id: None,
            data: features::semantic_tokens(&a, file),
        })))
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        let Some((a, file)) = self.analysis(&params.text_document.uri).await? else {
            return Ok(None);
        };
        Ok(Some(features::folding_ranges(&a, file)))
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        let Some((a, file)) = self.analysis(&params.text_document.uri).await? else {
            return Ok(None);
        };
        let Some(ix) = a.line_index(file) else {
            return Ok(None);
        };
        let text = a.text(file);
        let range = (
            ix.offset_clamped(text, params.range.start),
            ix.offset_clamped(text, params.range.end),
        );
        Ok(Some(features::inlay_hints(&a, file, Some(range))))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri;
        let Some((a, file)) = self.analysis(&uri).await? else {
            return Ok(None);
        };
        let Some(ix) = a.line_index(file) else {
            return Ok(None);
        };
        let text = a.text(file);
        let range = (
            ix.offset_clamped(text, params.range.start),
            ix.offset_clamped(text, params.range.end),
        );
        Ok(Some(features::code_actions(&a, file, &uri, range)))
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let uri = params.text_document.uri;
        let Some((a, file)) = self.analysis(&uri).await? else {
            return Ok(None);
        };
        let lenses = tokio::task::spawn_blocking(move || features::code_lenses(&a, file, &uri))
            .await
            .map_err(|_| Error::internal_error())?;
        Ok(Some(lenses))
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let Some(path) = uri_path(&params.text_document.uri) else {
            return Ok(None);
        };
        let Some(doc) = self.ws.doc(&path) else {
            return Ok(None);
        };
        Ok(features::format(&doc.text))
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        if params.command != features::RUN_TEST {
            return Err(Error::invalid_params(format!(
                "unknown command `{}`",
                params.command
            )));
        }
        let (Some(uri), Some(name)) = (
            params.arguments.first().and_then(|v| v.as_str()),
            params.arguments.get(1).and_then(|v| v.as_str()),
        ) else {
            return Err(Error::invalid_params(
                "norm.runTest takes a document URI and a test name",
            ));
        };
        let uri: Uri = uri
            .parse()
            .map_err(|_| Error::invalid_params("not a URI"))?;
        let Some((a, _)) = self.analysis(&uri).await? else {
            return Err(Error::invalid_params("unknown document"));
        };
        let name = name.to_string();
        let result = tokio::task::spawn_blocking(move || {
            let t = a.program.tests.iter().find(|t| t.name == name)?;
            Some(features::run_test(&a, t).map(|r| {
                let failures: Vec<String> = r.failures.iter().map(|(_, m)| m.clone()).collect();
                (r.name, failures)
            }))
        })
        .await
        .map_err(|_| Error::internal_error())?;
        let Some(outcome) = result else {
            return Err(Error::invalid_params("no test of that name"));
        };
        let (message, value) = match outcome {
            None => (
                "the law has errors: fix them to run its tests".to_string(),
                serde_json::json!({"passed": false, "failures": ["the law has errors"]}),
            ),
            Some((n, f)) if f.is_empty() => (
                format!("test {n:?} passed"),
                serde_json::json!({"passed": true, "failures": []}),
            ),
            Some((n, f)) => (
                format!("test {n:?} failed: {}", f.join("; ")),
                serde_json::json!({"passed": false, "failures": f}),
            ),
        };
        self.client.show_message(MessageType::INFO, message).await;
        Ok(Some(value))
    }
}

fn main() {
    lalrpop::Configuration::new()
        .use_cargo_dir_conventions()
        .emit_rerun_directives(true)
        .process()
        .unwrap_or_else(|e| {
            eprintln!("lalrpop failed: {e}");
            std::process::exit(1)
        });
}

//! The `quire` binary: everything lives in the library; see `quire::cli`.

fn main() -> std::process::ExitCode {
    quire::cli::main()
}

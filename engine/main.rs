fn main() -> std::process::ExitCode {
    miroir::cli::main()
}

fn main() -> std::process::ExitCode {
    castellan::app::cli::main()
}

fn main() -> std::process::ExitCode {
    castellan::cli::main()
}

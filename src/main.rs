fn main() -> std::process::ExitCode {
    offhours::cli::main()
}

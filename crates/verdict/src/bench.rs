pub async fn run(_args: crate::cli::BenchArgs) -> Result<(), Box<dyn std::error::Error>> { Err("bench: not built yet".into()) }

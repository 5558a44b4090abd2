//! `verdict serve`.

use std::time::Duration;

use verdict_server::{CiPipelines, Server, ServerConfig};

use crate::cli::{CiPipelinesArg, ServeArgs};

/// Runs until Ctrl-C or SIGTERM, then shuts down gracefully.
pub async fn run(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = ServerConfig::with_data_dir(args.store.data_dir.clone());
    config.listen = args.listen;
    config.database_url = args.store.database_url.clone();
    config.blob_url = args.store.blob_url.clone();
    config.retain_days = args.retain_days;
    config.admin_password = std::env::var("VERDICT_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    config.workers = args.workers;
    config.dedupe_window = Duration::from_secs(args.dedupe_window_secs);
    config.session_idle = Duration::from_secs(args.session_idle_secs);
    config.max_body_bytes = args.max_body_mib << 20;
    config.secure_cookies = args.secure_cookies;
    config.task_lease = Duration::from_secs(args.task_lease_secs.max(1));
    config.header_timeout = Duration::from_secs(args.header_timeout_secs.max(1));
    config.body_idle_timeout = Duration::from_secs(args.body_idle_timeout_secs.max(1));
    config.max_connections = args.max_connections.max(1);
    config.max_failed_sign_ins = args.max_failed_sign_ins.max(1);
    config.sign_in_window = Duration::from_secs(args.sign_in_window_secs.max(1));
    config.ci_pipelines = match args.ci_pipelines {
        CiPipelinesArg::Auto => CiPipelines::Auto,
        CiPipelinesArg::Defined => CiPipelines::Defined,
    };
    let server = Server::start(config).await?;
    if let Some(password) = &server.generated_admin_password {
        println!("created user 'admin' with password: {password}");
        println!(
            "(set VERDICT_ADMIN_PASSWORD before the first start to choose it; this is shown once)"
        );
    }
    if server.admin_password_ignored {
        println!(
            "note: VERDICT_ADMIN_PASSWORD is only used on the first start; user 'admin' already exists, so its password is unchanged (change it with: verdict admin user set-password admin)"
        );
    }
    // Handlers first: a signal sent as soon as the address is printed (a
    // supervisor, a test) must not be lost — under `nohup`/`&` SIGINT is
    // ignored until a handler is installed.
    let signals = Signals::install();
    println!("verdict listening on {}", server.url());
    signals.wait().await;
    tracing::info!("shutting down");
    server.shutdown().await;
    Ok(())
}

/// SIGINT (Ctrl-C) and SIGTERM, listened for from [`Signals::install`] on.
struct Signals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    async fn wait(self) {
        #[cfg(unix)]
        {
            let (Some(mut interrupt), Some(mut terminate)) = (self.interrupt, self.terminate)
            else {
                let _ = tokio::signal::ctrl_c().await;
                return;
            };
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

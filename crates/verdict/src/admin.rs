//! `verdict admin`: users, API keys, tokens, tenants and CI servers, written
//! straight to the database the server uses (it may be running).

use std::path::Path;

use verdict_server::{generate_secret, hash_secret};
use verdict_store::{Retention, Store};

use crate::cli::{
    AdminArgs, AdminCommand, ApiKeyCommand, CiServerCommand, Role, SharedSpaceCommand,
    TokenCommand, UserCommand, WorkspaceCommand,
};

type BoxError = Box<dyn std::error::Error>;

/// Runs an admin command.
pub async fn run(args: AdminArgs) -> Result<(), BoxError> {
    if let (AdminCommand::Backup { .. }, None) = (&args.command, &args.store.database_url) {
        // A mistyped --data-dir must not back up a database made just now.
        let db = args.store.data_dir.join("verdict.db");
        if !db.is_file() {
            return Err(format!(
                "no database at {}: give the server's --data-dir (or --database-url)",
                db.display()
            )
            .into());
        }
    }
    if args.store.database_url.is_none() {
        let dir = &args.store.data_dir;
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot use the data directory {}: {e}", dir.display()))?;
    }
    let store = Store::open(&args.store.url()).await?;
    verdict_server::bootstrap(
        &store,
        std::env::var("VERDICT_ADMIN_PASSWORD").ok().as_deref(),
    )
    .await?;
    let result = match args.command {
        AdminCommand::User { command } => user(&store, command).await,
        AdminCommand::ApiKey { command } => api_key(&store, command).await,
        AdminCommand::SharedSpace {
            command: SharedSpaceCommand::Create { id, name },
        } => store
            .ensure_shared_space(id, &name)
            .await
            .map_err(Into::into)
            .map(|()| println!("shared space: {id}")),
        AdminCommand::Workspace { command } => workspace(&store, command).await,
        AdminCommand::Token { command } => token(&store, command).await,
        AdminCommand::CiServer { command } => ci_server(&store, command).await,
        AdminCommand::Backup { to } => store
            .backup_to(&to)
            .await
            .map_err(Into::into)
            .map(|bytes| println!("backup written: {} ({bytes} bytes)", to.display())),
        AdminCommand::Prune {
            older_than,
            workspace,
        } => prune(&store, &args.store, older_than, workspace).await,
    };
    store.close().await;
    result
}

/// The password for `user add` / `set-password`: from the file, from
/// `VERDICT_NEW_PASSWORD`, or generated (then `true`: print it).
fn new_password(file: Option<&Path>) -> Result<(String, bool), BoxError> {
    if let Some(file) = file {
        let text = read_password_file(file)?;
        return Ok((text, false));
    }
    match std::env::var("VERDICT_NEW_PASSWORD") {
        Ok(p) if !p.is_empty() => Ok((p, false)),
        _ => Ok((generate_secret(12)?, true)),
    }
}

/// The first line of a password file, refusing an empty one.
pub fn read_password_file(file: &Path) -> Result<String, BoxError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read the password file {}: {e}", file.display()))?;
    let first = text.lines().next().unwrap_or_default().to_owned();
    if first.is_empty() {
        return Err(format!("the password file {} is empty", file.display()).into());
    }
    Ok(first)
}

async fn user(store: &Store, command: UserCommand) -> Result<(), BoxError> {
    match command {
        UserCommand::Add {
            name,
            password_file,
            admin,
            workspaces,
            role,
        } => {
            if store.user_by_name(&name).await?.is_some() {
                return Err(format!(
                    "user '{name}' already exists; change its password with: verdict admin user set-password {name}"
                )
                .into());
            }
            for ws in &workspaces {
                known_workspace(store, *ws).await?;
            }
            let (password, generated) = new_password(password_file.as_deref())?;
            let id = store
                .upsert_user(&name, &hash_secret(&password)?, admin)
                .await?;
            for ws in workspaces {
                store.grant_role(id, ws, role.as_str()).await?;
            }
            println!("user: {name}");
            if generated {
                println!("password: {password}");
            }
        }
        UserCommand::SetPassword {
            name,
            password_file,
        } => {
            let found = store
                .user_by_name(&name)
                .await?
                .ok_or_else(|| format!("no user named '{name}'"))?;
            let (password, generated) = new_password(password_file.as_deref())?;
            store
                .upsert_user(&name, &hash_secret(&password)?, found.is_admin)
                .await?;
            let ended = store.end_sessions(found.id).await?;
            println!("password changed for user: {name}");
            println!("sessions ended: {ended}");
            print_kept_credentials(store, found.id).await?;
            if generated {
                println!("password: {password}");
            }
        }
        UserCommand::Disable { name } => {
            let ended = store
                .set_user_disabled(&name, true)
                .await?
                .ok_or_else(|| format!("no user named '{name}'"))?;
            println!("user disabled: {name}");
            println!("sessions ended: {ended}");
            println!(
                "API keys and tokens are kept but refused while disabled (verdict admin user enable {name})"
            );
        }
        UserCommand::Enable { name } => {
            store
                .set_user_disabled(&name, false)
                .await?
                .ok_or_else(|| format!("no user named '{name}'"))?;
            println!("user enabled: {name}");
        }
    }
    Ok(())
}

/// After a password reset: say what still signs in as the user, so nothing
/// is kept (or revoked) silently.
async fn print_kept_credentials(store: &Store, user_id: i64) -> Result<(), BoxError> {
    let keys = store.api_keys_of(Some(user_id)).await?;
    let tokens = store.api_tokens_of(Some(user_id)).await?;
    if keys.is_empty() && tokens.is_empty() {
        return Ok(());
    }
    println!(
        "still valid: {} API key(s), {} token(s); revoke with verdict admin api-key revoke / token revoke",
        keys.len(),
        tokens.len()
    );
    Ok(())
}

async fn user_id(store: &Store, user: Option<&str>) -> Result<Option<i64>, BoxError> {
    match user {
        None => Ok(None),
        Some(name) => Ok(Some(
            store
                .user_by_name(name)
                .await?
                .ok_or_else(|| format!("no user named '{name}'"))?
                .id,
        )),
    }
}

fn created(ms: i64) -> String {
    verdict_domain::time::format_iso(ms)
}

async fn api_key(store: &Store, command: ApiKeyCommand) -> Result<(), BoxError> {
    let (name, user) = match command {
        ApiKeyCommand::Create { name, user } => (name, user),
        ApiKeyCommand::List { user } => {
            let keys = store
                .api_keys_of(user_id(store, user.as_deref()).await?)
                .await?;
            println!("CLIENT ID\tNAME\tUSER\tCREATED");
            for k in keys {
                println!(
                    "{}\t{}\t{}\t{}",
                    k.client_id,
                    k.name,
                    k.user,
                    created(k.created_at)
                );
            }
            return Ok(());
        }
        ApiKeyCommand::Revoke { client_id } => {
            if !store.revoke_api_key(&client_id).await? {
                return Err(format!("no API key with client id '{client_id}'").into());
            }
            println!("API key revoked: {client_id}");
            return Ok(());
        }
    };
    let owner = store
        .user_by_name(&user)
        .await?
        .ok_or_else(|| format!("no user named '{user}'"))?;
    let client_id = format!(
        "{}_{}",
        name.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        generate_secret(4)?
    );
    let secret = generate_secret(24)?;
    store
        .insert_api_key(owner.id, &name, &client_id, &hash_secret(&secret)?)
        .await?;
    println!("client_id: {client_id}");
    println!("client_secret: {secret}");
    Ok(())
}

/// The shared space holding workspace `id`, or an error naming the id.
async fn known_workspace(store: &Store, id: i64) -> Result<i64, BoxError> {
    for sp in store.shared_spaces().await? {
        if store.workspace(sp.id, id).await?.is_some() {
            return Ok(sp.id);
        }
    }
    Err(format!(
        "no workspace {id} (create it with: verdict admin workspace create --id {id} --name NAME)"
    )
    .into())
}

async fn workspace(store: &Store, command: WorkspaceCommand) -> Result<(), BoxError> {
    match command {
        WorkspaceCommand::Create {
            shared_space,
            id,
            name,
        } => {
            if store.shared_space(shared_space).await?.is_none() {
                return Err(format!(
                    "no shared space {shared_space} (create it with: verdict admin shared-space create --id {shared_space} --name NAME)"
                )
                .into());
            }
            if let Ok(owner) = known_workspace(store, id).await
                && owner != shared_space
            {
                return Err(format!(
                    "workspace {id} already exists in shared space {owner}; workspace ids are unique across shared spaces, choose another --id"
                )
                .into());
            }
            let created = store.ensure_workspace(shared_space, id, &name).await?;
            println!(
                "workspace: {id}{}",
                if created { "" } else { " (already existed)" }
            );
        }
        WorkspaceCommand::Retain {
            workspace,
            days,
            forever,
            server_default,
        } => {
            let policy = match (days, forever, server_default) {
                (Some(d), _, _) => Retention::Days(d),
                (None, true, _) => Retention::Forever,
                (None, false, true) => Retention::ServerDefault,
                (None, false, false) => {
                    return Err("say how long: --days N, --forever or --server-default".into());
                }
            };
            if !store.set_retention(workspace, policy).await? {
                return Err(format!("no workspace {workspace}").into());
            }
            println!(
                "workspace {workspace} keeps {}",
                match policy {
                    Retention::Days(d) => format!("{d} days of history"),
                    Retention::Forever => "its history for ever".to_owned(),
                    Retention::ServerDefault => "what the server's --retain-days says".to_owned(),
                }
            );
        }
        WorkspaceCommand::Grant {
            user,
            workspace,
            role,
        } => grant(store, &user, workspace, role).await?,
    }
    Ok(())
}

async fn grant(store: &Store, user: &str, workspace: i64, role: Role) -> Result<(), BoxError> {
    let found = store
        .user_by_name(user)
        .await?
        .ok_or_else(|| format!("no user named '{user}'"))?;
    known_workspace(store, workspace).await?;
    store.grant_role(found.id, workspace, role.as_str()).await?;
    println!(
        "granted {} in workspace {workspace} to {user}",
        role.as_str()
    );
    Ok(())
}

async fn ci_server(store: &Store, command: CiServerCommand) -> Result<(), BoxError> {
    let CiServerCommand::Create {
        instance_id,
        name,
        workspace,
        shared_space,
        server_type,
        url,
    } = command;
    if store.workspace(shared_space, workspace).await?.is_none() {
        return Err(format!("no workspace {workspace} in shared space {shared_space}").into());
    }
    if store.ci_server_id(workspace, &instance_id).await?.is_some() {
        println!("ci server: {instance_id} (already existed)");
        return Ok(());
    }
    let name = name.unwrap_or_else(|| instance_id.clone());
    store
        .create_ci_server(workspace, &name, &instance_id, &server_type, url.as_deref())
        .await?;
    println!("ci server: {instance_id}");
    Ok(())
}

async fn token(store: &Store, command: TokenCommand) -> Result<(), BoxError> {
    let (user, name) = match command {
        TokenCommand::Create { user, name } => (user, name),
        TokenCommand::List { user } => {
            let tokens = store
                .api_tokens_of(user_id(store, user.as_deref()).await?)
                .await?;
            println!("ID\tNAME\tUSER\tCREATED");
            for t in tokens {
                println!(
                    "{}\t{}\t{}\t{}",
                    t.id,
                    t.name,
                    t.user,
                    created(t.created_at)
                );
            }
            return Ok(());
        }
        TokenCommand::Revoke { id } => {
            if !store.revoke_token(None, &id).await? {
                return Err(format!(
                    "no token with id '{id}' (ids are listed by: verdict admin token list)"
                )
                .into());
            }
            println!("token revoked: {id}");
            return Ok(());
        }
    };
    let (user, name) = (user.as_str(), name.as_str());
    let owner = store
        .user_by_name(user)
        .await?
        .ok_or_else(|| format!("no user named '{user}'"))?;
    let token = verdict_server::create_token(store, owner.id, name)
        .await
        .map_err(|e| e.to_string())?;
    println!("token for {user}: {token}");
    Ok(())
}

/// `verdict admin prune`: what went, in one line.
async fn prune(
    store: &Store,
    args: &crate::cli::StoreArgs,
    older_than: u32,
    workspace: Option<i64>,
) -> Result<(), BoxError> {
    if let Some(id) = workspace {
        known_workspace(store, id).await?;
    }
    let mut config = verdict_server::ServerConfig::with_data_dir(args.data_dir.clone());
    config.blob_url.clone_from(&args.blob_url);
    let r = verdict_server::prune_now(&config, store, workspace, older_than).await?;
    println!(
        "pruned history older than {older_than} days in {} workspace(s): {} previous runs, {} Test Center reports ({} runs, {} events), {} attachments, {} tasks; {} blobs removed",
        r.workspaces,
        r.previous_runs,
        r.tc_reports,
        r.tc_runs,
        r.tc_events,
        r.attachments,
        r.tasks,
        r.blobs_removed
    );
    Ok(())
}

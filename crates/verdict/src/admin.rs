//! `verdict admin`: users and API keys, written straight to the database
//! the server uses (it may be running).

use verdict_server::{generate_secret, hash_secret};
use verdict_store::Store;

use crate::cli::{
    AdminArgs, AdminCommand, ApiKeyCommand, SharedSpaceCommand, TokenCommand, UserCommand,
    WorkspaceCommand,
};

/// Runs an admin command.
pub async fn run(args: AdminArgs) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(parent) = args
        .store
        .database_url
        .is_none()
        .then_some(&args.store.data_dir)
    {
        std::fs::create_dir_all(parent)?;
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
        AdminCommand::Token {
            command: TokenCommand::Create { user, name },
        } => token(&store, &user, &name).await,
    };
    store.close().await;
    result
}

async fn user(store: &Store, command: UserCommand) -> Result<(), Box<dyn std::error::Error>> {
    let UserCommand::Add {
        name,
        password_file,
        admin,
        workspaces,
        role,
    } = command;
    let (password, generated) = match (password_file, std::env::var("VERDICT_NEW_PASSWORD").ok()) {
        (Some(file), _) => (
            std::fs::read_to_string(file)?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
            false,
        ),
        (None, Some(p)) if !p.is_empty() => (p, false),
        _ => (generate_secret(12)?, true),
    };
    let id = store
        .upsert_user(&name, &hash_secret(&password)?, admin)
        .await?;
    for ws in workspaces {
        store.grant_role(id, ws, &role).await?;
    }
    println!("user: {name}");
    if generated {
        println!("password: {password}");
    }
    Ok(())
}

async fn api_key(store: &Store, command: ApiKeyCommand) -> Result<(), Box<dyn std::error::Error>> {
    let ApiKeyCommand::Create { name, user } = command;
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

async fn workspace(
    store: &Store,
    command: WorkspaceCommand,
) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        WorkspaceCommand::Create {
            shared_space,
            id,
            name,
        } => {
            if store.shared_space(shared_space).await?.is_none() {
                return Err(format!("no shared space {shared_space}; create it first").into());
            }
            let created = store.ensure_workspace(shared_space, id, &name).await?;
            println!(
                "workspace: {id}{}",
                if created { "" } else { " (already existed)" }
            );
        }
        WorkspaceCommand::Grant {
            user,
            workspace,
            role,
        } => {
            let found = store
                .user_by_name(&user)
                .await?
                .ok_or_else(|| format!("no user named '{user}'"))?;
            let exists = store.shared_spaces().await?;
            let mut known = false;
            for sp in exists {
                known |= store.workspace(sp.id, workspace).await?.is_some();
            }
            if !known {
                return Err(format!("no workspace {workspace}").into());
            }
            store.grant_role(found.id, workspace, &role).await?;
            println!("granted {role} in workspace {workspace} to {user}");
        }
    }
    Ok(())
}

async fn token(store: &Store, user: &str, name: &str) -> Result<(), Box<dyn std::error::Error>> {
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

//! Gives a client a new description and expiry, keeping its scopes:
//! `update-client <clientId> <description> [<expires in, e.g. "30 days">]`.
use apigen_runtime::Time;
use taskcluster_auth::{Auth, ClientRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(client_id), Some(description)) = (args.next(), args.next()) else {
        return Err("usage: update-client <clientId> <description> [<expires in>]".into());
    };
    let expires = Time::from_now(&args.next().unwrap_or_else(|| "30 days".into()))?;
    let auth = Auth::from_env()?;
    let current = auth.client(&client_id).await?;
    let update = ClientRequest::new(description, expires)
        .with_scopes(current.scopes)
        .with_delete_on_expiration(current.delete_on_expiration);
    let updated = auth.update_client(&client_id, &update).await?;
    println!("Client {client_id}: {:?}, expires {}", updated.description, updated.expires);
    Ok(())
}

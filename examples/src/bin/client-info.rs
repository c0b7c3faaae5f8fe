//! Prints the expiry and expanded scopes of a client: `client-info <clientId>`.
use taskcluster_auth::Auth;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client_id = std::env::args().nth(1).ok_or("usage: client-info <clientId>")?;
    let client = Auth::from_env()?.client(&client_id).await?;
    println!("Client {client_id} expires {}", client.expires);
    println!("Expanded scopes:");
    for scope in &client.expanded_scopes {
        println!("  {scope}");
    }
    Ok(())
}

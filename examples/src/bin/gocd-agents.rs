//! Lists a GoCD server's agents, then schedules a pipeline: `gocd-agents <pipeline>`, with the
//! server in `GOCD_URL` (`https://ci.example.com/go`), `GOCD_USERNAME` and `GOCD_PASSWORD`.
use apigen_runtime::Client;
use gocd::GoCd;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pipeline = std::env::args().nth(1).ok_or("usage: gocd-agents <pipeline>")?;
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let client = Client::gocd_builder(var("GOCD_URL")?).basic_auth(var("GOCD_USERNAME")?, var("GOCD_PASSWORD")?);
    let gocd = GoCd::new(&client.build()?);
    for agent in gocd.get_all_agents().await?.items {
        let state = agent.agent_state.as_ref().map_or("?", |s| s.as_str());
        println!("{} {} {state}", agent.uuid, agent.hostname.as_deref().unwrap_or("?"));
    }
    println!("{}", gocd.schedule_pipeline(&pipeline, None).await?);
    Ok(())
}

use clap::Parser;
use shouzhen::cli::{self, Cli};
use shouzhen_app::config::Settings;

#[actix_web::main]
async fn main() {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("shouzhen: configuration error: {e}");
            std::process::exit(2);
        }
    };
    shouzhen::telemetry::init(settings.log_format);
    if let Err(message) = cli::run(cli, settings).await {
        eprintln!("shouzhen: {message}");
        std::process::exit(1);
    }
}

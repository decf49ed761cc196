//! The `shouzhen` command line.

use std::io::Read;

use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::demo;
use crate::error::ApiError;
use crate::startup::{self, Application};
use shouzhen_app::accounts::{self, HospitalInput, UserInput};
use shouzhen_app::complaints::import as complaint_import;
use shouzhen_app::config::Settings;
use shouzhen_app::error::AppError;
use shouzhen_app::import;
use shouzhen_domain::policy::Policy;

#[derive(Debug, Parser)]
#[command(
    name = "shouzhen",
    version,
    about = "首诊 Shouzhen: emergency-care rules made checkable"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run pending migrations, serve HTTP and run the background workers.
    Serve {
        /// Load a demo data set into an empty database first and print demo logins.
        #[arg(long)]
        demo: bool,
    },
    /// Run pending migrations and exit.
    Migrate,
    /// Manage hospitals (API clients).
    #[command(subcommand)]
    Hospital(HospitalCommand),
    /// Manage 120 dispatch centres (API clients posting their call logs).
    #[command(subcommand)]
    Dispatch(DispatchCommand),
    /// Manage community transport desks (API clients posting their transport logs).
    #[command(subcommand)]
    Community(CommunityCommand),
    /// Manage dashboard users.
    #[command(subcommand)]
    User(UserCommand),
    /// Bulk-load intake events (NDJSON, one event per line) through the API's validation and
    /// rules. Safe to re-run after an interruption: events already stored count as duplicates.
    Import {
        /// The NDJSON file.
        file: std::path::PathBuf,
        /// The code of the hospital whose events these are.
        #[arg(
            long,
            required_unless_present_any = ["dispatch", "community"],
            conflicts_with_all = ["dispatch", "community"]
        )]
        hospital: Option<String>,
        /// The code of the 120 dispatch centre whose call log this is.
        #[arg(long, conflicts_with = "community")]
        dispatch: Option<String>,
        /// The code of the community transport desk whose transport log this is.
        #[arg(long)]
        community: Option<String>,
        /// Events per transaction.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
    },
    /// Complaints from a 12345/12320 platform.
    #[command(subcommand)]
    Complaints(ComplaintsCommand),
    /// Policy packs.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The tamper-evident record.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Print everything held about one complaint, as JSON, for the complainant's data request.
    Export {
        /// The complaint's tracking code (as printed to the complainant, dashes optional).
        #[arg(long)]
        tracking_code: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chains of intake events and case actions; report the first row of each
    /// chain that was changed, deleted or inserted out of order (exit status 1), and print each
    /// chain's head to keep elsewhere.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum CommunityCommand {
    /// Register a community transport desk (街道/社区) and print its API credentials once
    /// (its token works only on /api/v1/transport-events).
    Add(SourceAdd),
}

/// A 120 centre or a community desk to register.
#[derive(Debug, clap::Args)]
pub struct SourceAdd {
    #[arg(long)]
    pub code: String,
    #[arg(long)]
    pub name: String,
    #[arg(long, default_value = "")]
    pub district: String,
    /// The jurisdiction whose policy pack judges it (e.g. dandong).
    #[arg(long, default_value = "national")]
    pub jurisdiction: String,
    /// Print `{"client_id": ..., "client_secret": ...}`.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum DispatchCommand {
    /// Register a 120 dispatch centre and print its API credentials once (its token works
    /// only on /api/v1/dispatch-events).
    Add(SourceAdd),
}

#[derive(Debug, Subcommand)]
pub enum ComplaintsCommand {
    /// Load work orders (CSV with a header row, or NDJSON; columns in the README) through the
    /// hotline desk's validation, sealing and rules. Safe to re-run: a work order
    /// (`external_ref` per `channel`) filed before files nothing. Bad rows are reported with
    /// their line and field (exit status 1); the good rows are loaded.
    Import {
        /// The file.
        file: std::path::PathBuf,
        /// csv or ndjson (by default, from the file's extension).
        #[arg(long, value_parser = ["csv", "ndjson"])]
        format: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print the effective rules, per jurisdiction and period, with their sources
    /// (FILE, else SHOUZHEN_POLICY, else the built-in defaults).
    Show { file: Option<std::path::PathBuf> },
}

#[derive(Debug, Subcommand)]
pub enum HospitalCommand {
    /// Register a hospital and print its API credentials once.
    Add(HospitalAdd),
    /// Replace a hospital's client secret and print the new one once.
    RotateSecret {
        #[arg(long)]
        code: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct HospitalAdd {
    #[arg(long)]
    pub code: String,
    #[arg(long)]
    pub name: String,
    #[arg(long, default_value = "")]
    pub district: String,
    /// The jurisdiction whose policy pack judges this hospital (e.g. beijing, shanghai, dandong).
    #[arg(long, default_value = "national")]
    pub jurisdiction: String,
    /// Emergency-room places declared by the hospital (for the public crowding board).
    #[arg(long, default_value_t = 0)]
    pub capacity: i32,
    /// Where the hospital's notices go: forwarded cases, returns, reminders.
    #[arg(long)]
    pub email: Option<String>,
    /// The zones for whose patients it is a designated (定点/黄码) hospital: one or more of
    /// sealed, controlled, precaution, comma-separated (e.g. `sealed,controlled`).
    #[arg(long, default_value = "")]
    pub designated_for: String,
    /// Print `{"client_id": ..., "client_secret": ...}`.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a dashboard user; the password is read from standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["inspector", "supervisor", "admin", "hospital", "operator"])]
        role: String,
        /// The district an inspector works in (supervisors and admins see all).
        #[arg(long)]
        district: Option<String>,
        /// The hospital (its code) a `hospital` user works for: required with that role,
        /// refused with any other.
        #[arg(long)]
        hospital: Option<String>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// Runs a command; the error is the message to print before exiting with status 1.
pub async fn run(cli: Cli, settings: Settings) -> Result<(), String> {
    match cli.command {
        Command::Serve { demo } => serve(settings, demo).await,
        Command::Policy(PolicyCommand::Show { file }) => {
            let policy = match file.or(settings.policy) {
                Some(path) => Policy::load(&path)?,
                None => Policy::builtin(),
            };
            print!("{}", policy.describe());
            Ok(())
        }
        Command::Import {
            file,
            hospital,
            dispatch,
            community,
            batch,
        } => {
            let state = blocking(move || startup::prepare(settings)).await?;
            blocking(move || {
                let importer = import::Importer {
                    pool: &state.pool,
                    keys: &state.keys,
                    policy: &state.policy,
                    notifier: &state.notifier,
                };
                let source = match (&hospital, &dispatch, &community) {
                    (Some(h), _, _) => import::Source::Hospital(h),
                    (None, Some(d), _) => import::Source::Dispatch(d),
                    (None, None, Some(c)) => import::Source::Community(c),
                    (None, None, None) => {
                        return Err(
                            "give --hospital CODE, --dispatch CODE or --community CODE".into()
                        );
                    }
                };
                import::run(&importer, &file, source, batch.max(1))
            })
            .await
        }
        Command::Complaints(ComplaintsCommand::Import { file, format }) => {
            let format = complaint_import::Format::choose(format.as_deref(), &file)?;
            let state = blocking(move || startup::prepare(settings)).await?;
            let (summary, file) = blocking(move || {
                let importer = complaint_import::Importer {
                    pool: &state.pool,
                    keys: &state.keys,
                    policy: &state.policy,
                    notifier: &state.notifier,
                };
                complaint_import::run(&importer, &file, format).map(|s| (s, file))
            })
            .await?;
            println!(
                "{}: filed {}, filed before (the same work orders) {}, rejected {}; cases opened {}",
                file.display(),
                summary.filed,
                summary.already,
                summary.rejected.len(),
                summary.cases_opened
            );
            if summary.unregistered > 0 {
                println!(
                    "  {} of them name a hospital that is not registered (filed with its name)",
                    summary.unregistered
                );
            }
            for (line, error) in summary.rejected.iter().take(50) {
                println!("  line {line}: {error}");
            }
            if summary.rejected.len() > 50 {
                println!("  ... and {} more", summary.rejected.len() - 50);
            }
            if summary.rejected.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "{} rows were rejected (the others are loaded; fix them and run again)",
                    summary.rejected.len()
                ))
            }
        }
        Command::Audit(AuditCommand::Verify) => {
            let state = blocking(move || startup::prepare(settings)).await?;
            let report = state
                .db(|conn| Ok(shouzhen_store::record::verify(conn)?))
                .await
                .map_err(describe)?;
            for (chain, head) in &report.heads {
                println!(
                    "head {chain}: {}",
                    if head.is_empty() { "(empty)" } else { head }
                );
            }
            if report.breaks.is_empty() {
                println!(
                    "ok: {} intake events and {} case actions, every chain intact",
                    report.events, report.actions
                );
                Ok(())
            } else {
                for b in &report.breaks {
                    println!("BROKEN {b}");
                }
                Err(format!(
                    "{} chain(s) broken among {} intake events and {} case actions",
                    report.breaks.len(),
                    report.events,
                    report.actions
                ))
            }
        }
        Command::Export { tracking_code } => {
            let state = blocking(move || startup::prepare(settings)).await?;
            let keys = state.keys.clone();
            let code = tracking_code.clone();
            let found = state
                .db(move |conn| {
                    Ok(shouzhen_app::complaints::export::export(
                        conn, &keys, &code,
                    )?)
                })
                .await
                .map_err(describe)?;
            match found {
                Some(v) => {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?
                    );
                    Ok(())
                }
                None => Err(format!(
                    "--tracking-code: no complaint has the code {tracking_code}"
                )),
            }
        }
        Command::Migrate => {
            let state = blocking(move || startup::prepare(settings)).await?;
            drop(state);
            println!("migrations are up to date");
            Ok(())
        }
        Command::Hospital(HospitalCommand::Add(args)) => {
            let state = blocking(move || startup::prepare(settings)).await?;
            let input = HospitalInput {
                code: args.code,
                name: args.name,
                district: args.district,
                jurisdiction: args.jurisdiction,
                capacity: args.capacity,
                email: args.email,
                designated_for: args.designated_for,
            };
            let (hospital, creds) = state
                .db(move |conn| accounts::add_hospital(conn, &input))
                .await
                .map_err(describe)?;
            print_credentials("hospital", &hospital.code, &creds, args.json);
            Ok(())
        }
        Command::Dispatch(DispatchCommand::Add(args)) => {
            add_source(settings, args, "dispatch centre").await
        }
        Command::Community(CommunityCommand::Add(args)) => {
            add_source(settings, args, "community desk").await
        }
        Command::Hospital(HospitalCommand::RotateSecret { code, json }) => {
            let state = blocking(move || startup::prepare(settings)).await?;
            let c = code.clone();
            let creds = state
                .db(move |conn| accounts::rotate_secret(conn, &c))
                .await
                .map_err(describe)?;
            print_credentials("hospital", &code, &creds, json);
            Ok(())
        }
        Command::User(UserCommand::Add {
            email,
            role,
            district,
            hospital,
            password_stdin,
        }) => {
            if !password_stdin {
                return Err("pass --password-stdin and give the password on standard input".into());
            }
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            let state = blocking(move || startup::prepare(settings)).await?;
            let input = UserInput {
                email,
                role,
                district,
                password,
                hospital,
            };
            let user = state
                .db(move |conn| accounts::add_user(conn, &input))
                .await
                .map_err(describe)?;
            println!("user {} added with role {}", user.email, user.role);
            Ok(())
        }
    }
}

/// Registers a 120 centre or a community desk (`what`) and prints its credentials once.
async fn add_source(settings: Settings, args: SourceAdd, what: &'static str) -> Result<(), String> {
    let state = blocking(move || startup::prepare(settings)).await?;
    let input = HospitalInput {
        code: args.code,
        name: args.name,
        district: args.district,
        jurisdiction: args.jurisdiction,
        capacity: 0,
        email: None,
        designated_for: String::new(),
    };
    let (source, creds) = state
        .db(move |conn| match what {
            "community desk" => accounts::add_community_desk(conn, &input),
            _ => accounts::add_dispatch_centre(conn, &input),
        })
        .await
        .map_err(describe)?;
    print_credentials(what, &source.code, &creds, args.json);
    Ok(())
}

fn print_credentials(what: &str, code: &str, creds: &accounts::Credentials, as_json: bool) {
    if as_json {
        println!(
            "{}",
            json!({"client_id": creds.client_id, "client_secret": creds.client_secret})
        );
    } else {
        println!("{what} {code}");
        println!("  client_id:     {}", creds.client_id);
        println!("  client_secret: {}", creds.client_secret);
        println!("The secret is shown only this once; only its hash is stored.");
    }
}

/// A readable message for an error of the shared account functions.
fn describe(e: impl Into<ApiError>) -> String {
    match e.into().0 {
        AppError::BadRequest { errors, .. } if !errors.is_empty() => errors
            .iter()
            .map(|f| format!("--{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    }
}

fn print_demo(public: &str, loaded: Option<&demo::DemoSummary>) {
    match loaded {
        Some(d) => {
            println!(
                "\nDemo data loaded: {} events, {} cases.\n  Hospital {} API client (shown once):\n    client_id:     {}\n    client_secret: {}",
                d.events, d.cases, d.hospital, d.credentials.client_id, d.credentials.client_secret
            );
            if let Some((code, c)) = &d.centre {
                println!(
                    "  120 centre {code} API client (shown once; POST {public}/api/v1/dispatch-events):\n    client_id:     {}\n    client_secret: {}",
                    c.client_id, c.client_secret
                );
            }
            if let Some((code, c)) = &d.desk {
                println!(
                    "  Community desk {code} API client (shown once; POST {public}/api/v1/transport-events):\n    client_id:     {}\n    client_secret: {}",
                    c.client_id, c.client_secret
                );
            }
        }
        None => println!(
            "\nThe database was not empty: demo data not loaded (delete it to start afresh)."
        ),
    }
    println!("\nDemo logins (password `{}`):", demo::PASSWORD);
    for (email, role, district) in demo::USERS {
        println!(
            "  {email:<36} {role}{}",
            district.map(|d| format!(" ({d})")).unwrap_or_default()
        );
    }
    for (email, hospital) in [demo::HOSPITAL_USER, demo::OTHER_HOSPITAL_USER] {
        println!("  {email:<36} hospital ({hospital}: its inbox at {public}/hospital)");
    }
    println!(
        "\nTry:\n  TOKEN=$(curl -s {public}/api/v1/auth/login -H 'content-type: application/json' \\\n      -d '{{\"email\":\"supervisor@shouzhen.demo\",\"password\":\"{}\"}}' | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')\n  curl -s -H \"Authorization: Bearer $TOKEN\" '{public}/api/v1/cases?severity=high&limit=5'",
        demo::PASSWORD
    );
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    actix_web::rt::task::spawn_blocking(f)
        .await
        .map_err(|e| format!("task failed: {e}"))?
}

async fn serve(mut settings: Settings, demo: bool) -> Result<(), String> {
    // The demo shows every rule, Dandong's fleet count among them: the shipped packs apply
    // unless a pack was named.
    settings.shipped_packs = demo;
    let state = blocking(move || startup::prepare(settings)).await?;
    let loaded = if demo {
        let (keys, policy, notifier) = (
            state.keys.clone(),
            state.policy.clone(),
            state.notifier.clone(),
        );
        let pool = state.pool.clone();
        println!("Loading the demo data set (three weeks of traffic at seven hospitals)...");
        blocking(move || {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            demo::load(&mut conn, &keys, &policy, &notifier).map_err(|e| e.to_string())
        })
        .await?
    } else {
        None
    };
    let app = Application::build(state)?;
    let public = app.state.settings.public_url.clone();
    tracing::info!(port = app.port, "listening");
    println!("\nShouzhen is listening on {public}");
    println!("  Inspectors' dashboard:      {public}/login");
    println!("  Citizens' complaint form:   {public}/complaints/new   (English: ?lang=en)");
    println!("  Public emergency-room board: {public}/hospitals");
    println!("  API description (OpenAPI 3): {public}/api/v1/openapi.json");
    println!("  Health: {public}/readyz   Metrics: {public}/metrics");
    if demo {
        print_demo(&public, loaded.as_ref());
    }
    // The server stops on SIGTERM or Ctrl-C (`startup::stop_on_signal`): within 30 s.
    let result = app.server.await.map_err(|e| e.to_string());
    let _ = app.stop.send(true);
    tracing::info!("stopped");
    result
}

//! The database URL, parsed once: the scheme chooses the backend.

use std::fmt;
use std::path::PathBuf;

#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `postgres://...` or `postgresql://...`, passed to libpq as given.
    Postgres(String),
    /// `sqlite://PATH` (relative or absolute) or `sqlite:PATH`.
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_string()));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .ok_or_else(|| "must start with sqlite:// or postgres://".to_string())?;
        if path.is_empty() {
            return Err("sqlite:// needs a file path, e.g. sqlite://shouzhen.db".into());
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }
}

/// Never prints a password that the URL may carry.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => {
                // postgres://user:password@host/db -> postgres://user:***@host/db
                match (url.find("://"), url.rfind('@')) {
                    (Some(s), Some(at)) if at > s => {
                        let creds = &url[s + 3..at];
                        let user = creds.split(':').next().unwrap_or("");
                        let masked = if creds.contains(':') { ":***" } else { "" };
                        write!(f, "{}{user}{masked}{}", &url[..s + 3], &url[at..])
                    }
                    _ => f.write_str(url),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_masks() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/s.db").ok(),
            Some(DatabaseUrl::Sqlite("data/s.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/s.db").ok(),
            Some(DatabaseUrl::Sqlite("/var/s.db".into()))
        );
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        let pg = DatabaseUrl::parse("postgres://u:secret@h/db").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pg.to_string(), "postgres://u:***@h/db");
    }
}

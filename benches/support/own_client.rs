//! The database's own client (`sqlite3`, `psql`), for the raw limits the benchmarks set
//! beside the service.

use std::io::Write;
use std::process::Command;

/// Runs `cmd` with `stdin` as its input; panics unless it succeeds.
pub fn run(cmd: &mut Command, stdin: &str) {
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("start the database's own client");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write");
    let status = child.wait().expect("wait");
    assert!(status.success(), "{cmd:?} failed");
}

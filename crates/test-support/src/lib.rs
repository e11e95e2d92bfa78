//! Test helpers. The shared material (HMRC corpus, HS nomenclature, KCS data) lives next to the repository in
//! `../shared`, or where `ADUANA_SHARED` points. Tests that need it skip with a printed reason when it is absent,
//! except in CI (`CI=true`), where its absence is a failure.

use std::path::{Path, PathBuf};

/// The shared folder, or `None` (after printing why) when it is absent outside CI. Panics in CI.
pub fn shared_dir() -> Option<PathBuf> {
    let candidate = match std::env::var_os("ADUANA_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    if candidate.join("conformance").is_dir() {
        return Some(candidate);
    }
    let reason = format!(
        "shared material not found at {} (set ADUANA_SHARED)",
        candidate.display()
    );
    if in_ci() {
        panic!("{reason}: in CI this is a failure");
    }
    eprintln!("SKIPPED: {reason}");
    None
}

/// True when running under CI (`CI=true`), where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The HMRC sample folder of the shared corpus.
pub fn hmrc_samples() -> Option<PathBuf> {
    shared_dir().map(|dir| dir.join("conformance/hmrc-cds-v2/samples"))
}

/// Every file under `dir`, sorted, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The declaration files of the HMRC corpus: XML files that are not CDS notifications (DMSxxx) nor inventory
/// linking or DIS messages, which have their own folders.
pub fn hmrc_declaration_files(samples: &Path) -> Vec<PathBuf> {
    files_under(samples)
        .into_iter()
        .filter(|p| {
            let text = p.to_string_lossy();
            p.extension().is_some_and(|e| e == "xml")
                && !text.contains("Notification")
                // Movement messages are inventory-linking messages, except the goods presentations (GPN), which
                // are DEC messages with function code 13.
                && (!text.contains("Movement_Messages") || text.contains("GPN"))
                && !text.contains("DIS_Report")
                && !text.contains("ILE_Query")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().contains("DMS"))
        })
        .collect()
}

/// A Python with lxml, named by `ADUANA_LXML_PYTHON` (`.ci/run` makes one): libxml2's XSD validation is the
/// reference some tests compare Aduana's XML with. `None` (after printing why) when unset outside CI; panics in CI.
pub fn lxml_python() -> Option<String> {
    match std::env::var("ADUANA_LXML_PYTHON") {
        Ok(python) => Some(python),
        Err(_) if in_ci() => panic!("ADUANA_LXML_PYTHON is not set: in CI this is a failure"),
        Err(_) => {
            eprintln!("SKIPPED the schema check: set ADUANA_LXML_PYTHON to a Python with lxml");
            None
        }
    }
}

/// libxml2's verdict on one file.
#[derive(Clone, Debug)]
pub struct XsdVerdict {
    pub file: String,
    pub valid: bool,
    pub error: Option<String>,
}

/// Which schemas `tools/xsd_validate.py` loads: the declaration's (DEC) or the notification's (RES).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schemas {
    Declaration,
    Notification,
    /// `CANCEL_METADATA.xsd` with `CANCEL.xsd`: the stricter schema of invalidations (function code 13, INV).
    Cancel,
}

/// Runs `tools/xsd_validate.py` with `python` over `files` against the corpus's schemas; one verdict per file, in
/// order. Panics when the script cannot run.
pub fn xsd_verdicts(python: &str, schemas: Schemas, files: &[PathBuf]) -> Vec<XsdVerdict> {
    let samples = hmrc_samples().expect("the corpus is there when a Python with lxml is");
    let mut command = std::process::Command::new(python);
    command.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/xsd_validate.py"));
    match schemas {
        Schemas::Declaration => command.arg(samples.join("../schemas/wco/declaration")),
        Schemas::Notification => command
            .arg("--res")
            .arg(samples.join("../schemas/wco/notification")),
        Schemas::Cancel => command
            .arg("--cancel")
            .arg(samples.join("../schemas/wco/declaration")),
    };
    let output = command
        .args(files)
        .output()
        .expect("run tools/xsd_validate.py");
    assert!(
        output.status.success(),
        "tools/xsd_validate.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let v: serde_json::Value =
                serde_json::from_str(line).expect("one JSON verdict per line");
            XsdVerdict {
                file: v["file"].as_str().unwrap_or_default().to_owned(),
                valid: v["valid"].as_bool().unwrap_or(false),
                error: v["error"].as_str().map(str::to_owned),
            }
        })
        .collect()
}

/// A database the storage-touching tests run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Database {
    Sqlite,
    Postgres,
}

/// The databases to run against: SQLite always; PostgreSQL when `ADUANA_TEST_POSTGRES` names a server (required
/// in CI, where its absence is a failure).
pub fn databases() -> Vec<Database> {
    match std::env::var("ADUANA_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => vec![Database::Sqlite, Database::Postgres],
        _ => {
            if in_ci() {
                panic!("ADUANA_TEST_POSTGRES is not set: in CI the PostgreSQL tests must run");
            }
            eprintln!(
                "SKIPPED on PostgreSQL: ADUANA_TEST_POSTGRES is not set (.ci/run starts a server and sets it)"
            );
            vec![Database::Sqlite]
        }
    }
}

/// A new, empty database on the test PostgreSQL server (`ADUANA_TEST_POSTGRES`), and its URL.
pub async fn fresh_postgres() -> String {
    let admin = std::env::var("ADUANA_TEST_POSTGRES").expect("checked by databases()");
    sqlx::any::install_default_drivers();
    let name = format!("aduana_test_{}", uuid::Uuid::new_v4().simple());
    let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
        .await
        .expect("connect to the test PostgreSQL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut connection)
        .await
        .expect("create test database");
    // Replace the database name in the admin URL (…/postgres?host=… → …/NAME?host=…).
    let (head, query) = admin
        .split_once('?')
        .map_or((admin.as_str(), None), |(h, q)| (h, Some(q)));
    let base = head.rsplit_once('/').map_or(head, |(b, _)| b);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// A throwaway NATS server with JetStream (Debian's `nats-server`, or `ADUANA_NATS_SERVER`), storing in its own
/// folder, on a free local port; killed when dropped. [`NatsServer::kill`] and [`NatsServer::restart`] make a
/// broker outage.
pub struct NatsServer {
    binary: PathBuf,
    pub folder: tempfile::TempDir,
    pub port: u16,
    child: Option<std::process::Child>,
}

impl NatsServer {
    /// Starts one, or `None` (after printing why) when no `nats-server` is installed outside CI. Panics in CI.
    pub fn start() -> Option<NatsServer> {
        let binary = std::env::var_os("ADUANA_NATS_SERVER")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("PATH").and_then(|paths| {
                    std::env::split_paths(&paths)
                        .map(|p| p.join("nats-server"))
                        .find(|p| p.is_file())
                })
            })
            .or_else(|| Some(PathBuf::from("/usr/sbin/nats-server")).filter(|p| p.is_file()));
        let Some(binary) = binary else {
            let reason = "no nats-server (apt-get install nats-server, or set ADUANA_NATS_SERVER)";
            if in_ci() {
                panic!("{reason}: in CI this is a failure");
            }
            eprintln!("SKIPPED: {reason}");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut server = NatsServer {
            binary,
            folder: tempfile::tempdir().expect("a folder"),
            port,
            child: None,
        };
        server.restart();
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills it at once (SIGKILL): an outage, not a shutdown.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it (again) on the same port and folder, and waits until it takes connections.
    pub fn restart(&mut self) {
        self.kill();
        let child = std::process::Command::new(&self.binary)
            .args(["-js", "-sd"])
            .arg(self.folder.path())
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start nats-server");
        self.child = Some(child);
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("nats-server did not start on port {}", self.port);
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

//! Administration by command line, as an operator runs it: users with portal passwords, scoped and revocable
//! tokens, representations, the audit signing key, checkpoints written by the server, and `aduana audit verify`
//! finding a tampered database.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The PostgreSQL database of a data folder, for the tests run on PostgreSQL (folders without one use the
/// folder's SQLite database).
static DATABASES: std::sync::Mutex<Vec<(std::path::PathBuf, String)>> =
    std::sync::Mutex::new(Vec::new());

/// A fresh data folder on `database`: its SQLite file, or a new PostgreSQL database the commands use with it.
fn place(database: test_support::Database) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if database == test_support::Database::Postgres {
        let url = tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(test_support::fresh_postgres());
        DATABASES.lock().unwrap().push((dir.path().to_owned(), url));
    }
    dir
}

/// The database URL the commands of `dir` use.
fn database_of(dir: &Path) -> Option<String> {
    DATABASES
        .lock()
        .unwrap()
        .iter()
        .find(|(d, _)| d == dir)
        .map(|(_, url)| url.clone())
}

fn aduana(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_aduana"));
    command
        .env("ADUANA_DATA_DIR", dir)
        .env("ADUANA_LOG", "warn");
    if let Some(url) = database_of(dir) {
        command.env("ADUANA_DATABASE", url);
    }
    command
}

fn run(dir: &Path, args: &[&str]) -> Output {
    aduana(dir).args(args).output().unwrap()
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

struct Server {
    child: std::process::Child,
    base: String,
}

impl Server {
    fn start(dir: &Path) -> Server {
        Self::start_logging(dir, None)
    }

    /// Starts the server, its log (at `level`) written to `log` when given.
    fn start_logging(dir: &Path, log: Option<(&Path, &str)>) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("127.0.0.1:{port}");
        let mut command = aduana(dir);
        command.args(["serve", "--addr", &address, "--checkpoint-seconds", "3600"]);
        match log {
            Some((path, level)) => {
                command
                    .env("ADUANA_LOG", level)
                    .stderr(std::fs::File::create(path).unwrap());
            }
            None => {
                command.stderr(Stdio::null());
            }
        }
        let child = command.spawn().unwrap();
        let up = (0..200).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(25));
            std::net::TcpStream::connect(&address).is_ok()
        });
        assert!(up, "the server did not start");
        Server {
            child,
            base: format!("http://{address}"),
        }
    }

    /// Stops the server as an operator does (SIGTERM): it finishes, and writes a last checkpoint.
    fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "{exit:?}");
    }
}

fn get(base: &str, path: &str, token: &str) -> (u16, serde_json::Value) {
    let response = reqwest::blocking::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(serde_json::Value::Null))
}

fn lodge(base: &str, token: &str, lrn: &str) -> (u16, serde_json::Value) {
    let xml = include_str!("../../wco/tests/minimal.xml").replace("MINIMAL-1", lrn);
    let response = reqwest::blocking::Client::new()
        .post(format!("{base}/api/v1/declarations"))
        .bearer_auth(token)
        .header("content-type", "application/xml")
        .body(xml)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(serde_json::Value::Null))
}

#[test]
fn users_tokens_and_representations_are_administered_by_command_line() {
    for database in test_support::databases() {
        users_tokens_and_representations_are_administered_by_command_line_on(database);
    }
}

fn users_tokens_and_representations_are_administered_by_command_line_on(
    database: test_support::Database,
) {
    let dir = place(database);
    let dir = dir.path();
    // A trader with a portal password read from standard input.
    let mut child = aduana(dir)
        .args([
            "users",
            "add",
            "--role",
            "trader",
            "--party",
            "GB603202734852",
            "--login",
            "alice",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let full = ok(output).trim().to_owned();
    assert!(full.starts_with("adu_") && full.len() == 68, "{full}");
    // Too short a password is refused, nothing created.
    let mut child = aduana(dir)
        .args([
            "users",
            "add",
            "--role",
            "officer",
            "--login",
            "bob",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let refused = child.wait_with_output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("at least 12 characters"));

    let users = ok(run(dir, &["users", "list"]));
    assert_eq!(users.lines().count(), 1, "{users}");
    let user_id = users.split('\t').next().unwrap().to_owned();
    assert!(
        users.contains("alice") && users.contains("active"),
        "{users}"
    );

    // An officer works at an office of the profile in use (Dover in the demonstration); a trader at none.
    ok(run(
        dir,
        &[
            "users",
            "add",
            "--role",
            "officer",
            "--name",
            "Officer Dora",
        ],
    ));
    let users = ok(run(dir, &["users", "list"]));
    let dora = users
        .lines()
        .find(|l| l.contains("Officer Dora"))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_owned();
    ok(run(dir, &["users", "office", &dora, "GB000060"]));
    let users = ok(run(dir, &["users", "list"]));
    assert!(
        users
            .lines()
            .any(|l| l.contains("Officer Dora") && l.contains("\tGB000060\t")),
        "{users}"
    );
    let unknown = run(dir, &["users", "office", &dora, "XX000001"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("one of the administration's offices"),
        "{}",
        stderr(&unknown)
    );
    let trader = run(dir, &["users", "office", &user_id, "GB000060"]);
    assert_eq!(trader.status.code(), Some(2));
    assert!(
        stderr(&trader).contains("Only a customs officer"),
        "{}",
        stderr(&trader)
    );
    ok(run(dir, &["users", "office", &dora, "any"]));
    ok(run(dir, &["users", "disable", &dora]));

    // A read-only token that expires, and one for another scope.
    let read_only = ok(run(
        dir,
        &[
            "tokens",
            "create",
            &user_id,
            "--scopes",
            "declarations:read",
            "--expires-in-days",
            "30",
        ],
    ))
    .trim()
    .to_owned();
    let refused = run(
        dir,
        &["tokens", "create", &user_id, "--scopes", "everything"],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("unknown scope"));
    let spare = ok(run(dir, &["tokens", "create", &user_id, "--name", "spare"]))
        .trim()
        .to_owned();
    let tokens = ok(run(dir, &["tokens", "list", "--user", &user_id]));
    assert_eq!(tokens.lines().count(), 3, "{tokens}");
    assert!(
        tokens.contains("declarations:read") && tokens.contains("expires 20"),
        "{tokens}"
    );
    assert!(
        !tokens.contains(&read_only),
        "a token's secret is never listed"
    );
    let spare_id = tokens
        .lines()
        .find(|l| l.contains("\tspare\t"))
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_owned();
    ok(run(dir, &["tokens", "revoke", &spare_id]));
    assert_eq!(
        run(dir, &["tokens", "revoke", &spare_id]).status.code(),
        Some(2)
    );

    // A broker registered for the declarant.
    ok(run(
        dir,
        &[
            "representations",
            "grant",
            "GB111111111000",
            "GB603202734852",
        ],
    ));
    assert_eq!(
        run(
            dir,
            &["representations", "grant", "not an eori", "GB603202734852"]
        )
        .status
        .code(),
        Some(2)
    );

    let server = Server::start(dir);
    let (status, _) = lodge(&server.base, &full, "CLI-1");
    assert_eq!(status, 201);
    let (status, _) = get(&server.base, "/api/v1/declarations", &read_only);
    assert_eq!(status, 200);
    let (status, body) = lodge(&server.base, &read_only, "CLI-2");
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("auth.scope_missing"))
    );
    let (status, body) = get(&server.base, "/api/v1/declarations", &spare);
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("auth.token_revoked"))
    );
    // Disabling the user stops its tokens (within the cache time).
    ok(run(dir, &["users", "disable", &user_id]));
    std::thread::sleep(std::time::Duration::from_secs(api::TOKEN_CACHE_SECONDS + 1));
    let (status, _) = get(&server.base, "/api/v1/declarations", &full);
    assert_eq!(status, 401);
    server.stop();

    // Everything above is in the trail, which verifies against the checkpoint the server wrote at shutdown.
    let tail = ok(run(dir, &["audit", "tail", "--count", "100"]));
    for action in [
        "user.add",
        "user.password",
        "token.create",
        "token.revoke",
        "representation.grant",
        "user.disable",
        "declaration.event",
    ] {
        assert!(tail.contains(action), "{action} not in\n{tail}");
    }
    let verified = ok(run(dir, &["audit", "verify"]));
    assert!(
        verified.contains("audit chain verified") && verified.contains("1 checkpoints matched"),
        "{verified}"
    );
}

#[test]
fn audit_verify_pins_the_key_and_names_the_entry_someone_edited() {
    for database in test_support::databases() {
        audit_verify_pins_the_key_and_names_the_entry_someone_edited_on(database);
    }
}

fn audit_verify_pins_the_key_and_names_the_entry_someone_edited_on(
    database: test_support::Database,
) {
    let dir = place(database);
    let dir = dir.path();
    let public_key = ok(run(dir, &["audit", "keygen"])).trim().to_owned();
    assert_eq!(public_key.len(), 64);
    // The same key on a second run, and the secret only readable by its owner.
    assert_eq!(ok(run(dir, &["audit", "keygen"])).trim(), public_key);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("audit/signing.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let token = ok(run(
        dir,
        &[
            "users",
            "add",
            "--role",
            "trader",
            "--party",
            "GB603202734852",
        ],
    ))
    .trim()
    .to_owned();
    let server = Server::start(dir);
    for n in 0..3 {
        assert_eq!(lodge(&server.base, &token, &format!("VERIFY-{n}")).0, 201);
    }
    server.stop();
    let checkpoint = ok(run(dir, &["audit", "checkpoint"]));
    assert!(
        checkpoint.contains("no new entries"),
        "the server checkpointed at shutdown: {checkpoint}"
    );

    let pinned = ok(run(
        dir,
        &["audit", "verify", "--public-key", &public_key, "--json"],
    ));
    let report: serde_json::Value = serde_json::from_str(&pinned).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    let entries = report["chain"]["summary"]["entries"].as_u64().unwrap();
    assert!(entries >= 14, "{report}");
    // Another key: the checkpoints are not trusted.
    let other = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    let refused = run(dir, &["audit", "verify", "--public-key", other]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stdout).contains("not signed by a trusted key"));

    // Someone with the database drops the trigger and edits entry 7.
    let (url, tamper) = match database_of(dir) {
        None => (
            format!("sqlite://{}", dir.join("aduana.db").display()),
            "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'nobody' WHERE seq = 7",
        ),
        Some(url) => (
            url,
            "ALTER TABLE audit_log DISABLE TRIGGER USER; UPDATE audit_log SET actor = 'nobody' WHERE seq = 7",
        ),
    };
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        sqlx::any::install_default_drivers();
        let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(tamper))
            .execute(&mut db)
            .await
            .unwrap();
    });
    let found = run(dir, &["audit", "verify"]);
    assert_eq!(found.status.code(), Some(1));
    let text = String::from_utf8_lossy(&found.stdout);
    assert!(
        text.contains("audit chain NOT verified: entry 7 was edited"),
        "{text}"
    );
}

/// Secrets and personal data stay out of the log, even at debug level: the token, the portal password, the
/// session cookie, the declarant's EORI and the declaration's contents.
#[test]
fn the_server_log_holds_no_secrets_or_personal_data() {
    for database in test_support::databases() {
        the_server_log_holds_no_secrets_or_personal_data_on(database);
    }
}

fn the_server_log_holds_no_secrets_or_personal_data_on(database: test_support::Database) {
    let dir = place(database);
    let dir = dir.path();
    let mut child = aduana(dir)
        .args([
            "users",
            "add",
            "--role",
            "trader",
            "--party",
            "GB603202734852",
            "--login",
            "carol",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"carols secret passphrase\n")
        .unwrap();
    let token = ok(child.wait_with_output().unwrap()).trim().to_owned();
    let log = dir.join("server.log");
    let server = Server::start_logging(dir, Some((&log, "debug")));
    assert_eq!(lodge(&server.base, &token, "LOG-1").0, 201);
    assert_eq!(
        get(&server.base, "/api/v1/declarations?status=released", &token).0,
        200
    );
    // A sign-in with the password, through the form.
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client.get(format!("{}/login", server.base)).send().unwrap();
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = page.text().unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let csrf = &html[start..start + html[start..].find('"').unwrap()];
    let signed_in = client
        .post(format!("{}/login", server.base))
        .header("cookie", cookie)
        .form(&[
            ("login", "carol"),
            ("password", "carols secret passphrase"),
            ("csrf", csrf),
        ])
        .send()
        .unwrap();
    assert_eq!(signed_in.status().as_u16(), 303);
    let session = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let session = session
        .split(';')
        .next()
        .unwrap()
        .split('=')
        .nth(1)
        .unwrap()
        .to_owned();
    server.stop();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("declaration lodged"),
        "the log was written at debug level: {text}"
    );
    for secret in [
        token.as_str(),
        "carols secret passphrase",
        session.as_str(),
        csrf,
        "GB603202734852",
        "Shaver parts",
    ] {
        assert!(!text.contains(secret), "the log holds {secret:?}");
    }
}

/// Issue 18 from the command line: `aduana agencies add`, a document type, an agency officer (`users add --role
/// agency --party VET`, refused for an agency nobody registered), the UK Trade Tariff's file for 0102291010
/// imported; then the server refuses cattle from the US without the CHED-A, naming it and VET, and VET's officer
/// sees the trader's application in its queue.
#[test]
fn an_agency_is_set_up_by_command_line_and_its_requirement_refuses_goods() {
    let Some(shared) = test_support::shared_dir() else {
        return;
    };
    for database in test_support::databases() {
        let dir = place(database);
        let dir = dir.path();
        let refused = run(dir, &["users", "add", "--role", "agency", "--party", "VET"]);
        assert!(!refused.status.success());
        assert!(
            stderr(&refused).contains("No agency is registered with this code"),
            "{}",
            stderr(&refused)
        );
        let refused = run(
            dir,
            &["agencies", "add", "vet", "--name", "Veterinary service"],
        );
        assert!(
            stderr(&refused).contains("is not an agency code"),
            "{}",
            stderr(&refused)
        );
        ok(run(
            dir,
            &[
                "agencies",
                "add",
                "VET",
                "--name",
                "Animal and Plant Health Agency",
                "--contact",
                "imports@apha.example",
            ],
        ));
        ok(run(
            dir,
            &[
                "agencies",
                "document",
                "VET",
                "C640",
                "--kind",
                "certificate",
                "--title",
                "CHED-A",
                "--validity-days",
                "30",
                "--balance-unit",
                "KGM",
                "--field",
                "establishment:Establishment of origin:required",
            ],
        ));
        let listed: serde_json::Value =
            serde_json::from_str(&ok(run(dir, &["agencies", "list"]))).unwrap();
        assert_eq!(
            listed[0]["documents"][0]["fields"][0]["required"], true,
            "{listed}"
        );
        let vet = ok(run(
            dir,
            &["users", "add", "--role", "agency", "--party", "VET"],
        ))
        .trim()
        .to_owned();
        let trader = ok(run(
            dir,
            &[
                "users",
                "add",
                "--role",
                "trader",
                "--party",
                "GB603202734852",
            ],
        ))
        .trim()
        .to_owned();
        let file = shared.join("data/uk-trade-tariff/uk/commodities/0102291010.json");
        ok(aduana(dir)
            .args(["tariff", "import-uk"])
            .arg(&file)
            .output()
            .unwrap());

        let server = Server::start(dir);
        let client = reqwest::blocking::Client::new();
        let cattle = serde_json::json!({
            "function_code": "original", "lrn": "CLI-COW-1", "type_code": "IMA",
            "declarant": {"id": "GB603202734852"},
            "goods_shipment": {"goods_items": [{
                "sequence_numeric": 1,
                "classifications": [{"id": "0102291010", "identification_type_code": "TSP"}],
                "duty_tax_fees": [{"type_code": "A00", "payment_method_code": "A"}],
                "item_charge_amount": {"value": "1000", "currency": "GBP"},
                "origins": [{"country_code": "US", "type_code": "1"}],
                "additional_documents": [{"category_code": "Y", "type_code": "929"}]
            }]}
        });
        let answer: serde_json::Value = client
            .post(format!("{}/api/v1/declarations", server.base))
            .bearer_auth(&trader)
            .json(&cattle)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(answer["status"], "rejected", "{answer}");
        let message = answer["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("needs C640") && message.contains("(agency VET)"),
            "{message}"
        );
        let filed = client
            .post(format!("{}/api/v1/lpco/applications", server.base))
            .bearer_auth(&trader)
            .json(&serde_json::json!({
                "document_code": "C640", "commodity": "0102291010", "origin": "US", "quantity": "500", "unit": "KGM",
                "fields": {"establishment": "US-TX-0042"}
            }))
            .send()
            .unwrap();
        assert_eq!(filed.status().as_u16(), 201);
        let (status, queue) = get(&server.base, "/api/v1/agency/queue", &vet);
        assert_eq!(
            (status, queue["applications"].as_array().map(Vec::len)),
            (200, Some(1)),
            "{queue}"
        );
        // The UK's third country duty is in the tariff now: 10.2 % + 93.10 EUR / 100 kg (EUR at 0.85 GBP):
        // 102.00 + 79.135 = 181.135, rounded half up.
        let calculated: serde_json::Value = client
            .post(format!("{}/api/v1/duty-calculations", server.base))
            .json(&serde_json::json!({
                "commodity_code": "0102291010", "origin": "US", "date": "2026-12-01",
                "customs_value": {"amount": "1000", "currency": "GBP"},
                "quantities": [{"unit": "KGM", "value": "100"}]
            }))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let a00 = calculated["taxes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "A00")
            .unwrap();
        assert_eq!(a00["amount"], "181.14", "{calculated}");
        server.stop();
    }
}

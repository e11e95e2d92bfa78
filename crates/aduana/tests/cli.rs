//! The command line, run as a user would: validate, assess, users add.

use serde_json::Value;
use std::process::Command;

thread_local! {
    /// The PostgreSQL database the commands of the current test use (none: the data folder's SQLite file).
    static DATABASE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

fn aduana() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_aduana"));
    if let Some(url) = DATABASE.with(|d| d.borrow().clone()) {
        command.env("ADUANA_DATABASE", url);
    }
    command
}

/// Runs `test` once per database: the data folder's SQLite file, then a fresh PostgreSQL database (required in
/// CI). The commands it runs through `aduana()` use that database.
fn on_every_database(test: impl Fn()) {
    for database in test_support::databases() {
        let url = match database {
            test_support::Database::Sqlite => None,
            test_support::Database::Postgres => Some(
                tokio::runtime::Runtime::new()
                    .unwrap()
                    .block_on(test_support::fresh_postgres()),
            ),
        };
        DATABASE.with(|d| *d.borrow_mut() = url);
        test();
        DATABASE.with(|d| *d.borrow_mut() = None);
    }
}

#[test]
fn validate_reads_function_code_13_messages_in_xml_and_json() {
    let Some(samples) = test_support::hmrc_samples() else {
        return;
    };
    let output = aduana()
        .arg("validate")
        .arg(samples.join("TT_EX052a/Step3_Cancellation.xml"))
        .arg(samples.join("TT_IM061b/TT_IM061b_Amendment.xml"))
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("Step3_Cancellation.xml: valid invalidation (function code 13, INV)"),
        "{text}"
    );
    assert!(
        text.contains("TT_IM061b_Amendment.xml: valid correction (function code 13, COR)"),
        "{text}"
    );
    let dir = std::env::temp_dir().join(format!("aduana-cli-fc13-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("gpr.json");
    std::fs::write(
        &json,
        r#"{"functional_reference_id": "ARRIVED-1", "type_code": "GPR", "declaration_id": "25GB53T2CGAY90LAA2"}"#,
    )
    .unwrap();
    let output = aduana()
        .args(["validate", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let line: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (
            line["valid"].as_bool(),
            line["errors"][0]["pointer"].as_str()
        ),
        (Some(false), Some("/declaration_id")),
        "a wrong check character: {line}"
    );
    std::fs::write(
        &json,
        std::fs::read_to_string(&json)
            .unwrap()
            .replace("LAA2", "LAA1"),
    )
    .unwrap();
    let output = aduana()
        .args(["validate", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let line: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        line["kind"], "goods presentation (function code 13, GPR)",
        "{line}"
    );
}

#[test]
fn validate_prints_one_json_line_per_file_and_fails_when_one_is_invalid() {
    let Some(samples) = test_support::hmrc_samples() else {
        return;
    };
    let good = samples.join("TT_IM001b/TT_IM001b.xml");
    let wrong_envelope = samples.join("TT_IM023a/TT_IM023a.xml");
    let broken = samples.join("TT_EX002a/TT_EX002a.xml");
    let output = aduana()
        .args(["validate", "--json"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let output = aduana()
        .args(["validate", "--json"])
        .args([&good, &wrong_envelope, &broken])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["valid"], true);
    assert_eq!(lines[0]["kind"], "declaration");
    assert_eq!(lines[0]["errors"], serde_json::json!([]));
    assert_eq!(
        (
            lines[1]["valid"].as_bool(),
            lines[1]["errors"][0]["code"].as_str()
        ),
        (Some(false), Some("xml.wrong_envelope"))
    );
    assert_eq!(
        (
            lines[2]["valid"].as_bool(),
            lines[2]["errors"][0]["code"].as_str()
        ),
        (Some(false), Some("xml.not_well_formed"))
    );
    assert!(
        lines[2]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Line "),
        "{}",
        lines[2]
    );
    assert!(
        lines[1]["file"]
            .as_str()
            .unwrap()
            .ends_with("TT_IM023a.xml")
    );
}

#[test]
fn assess_prints_the_documented_json_shape() {
    let Some(samples) = test_support::hmrc_samples() else {
        return;
    };
    let output = aduana()
        .args(["assess", "--json", "--date", "2026-11-29"])
        .arg(samples.join("TT_IM001b/TT_IM001b.xml"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let assessment: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(assessment["declaration"], "TT_IM01b_v1.7_220322_1");
    assert_eq!(assessment["currency"], "GBP");
    let taxes = &assessment["items"][0]["taxes"];
    assert_eq!(assessment["items"][0]["customs_value"], "1000.00");
    assert_eq!(
        (
            taxes[0]["type"].as_str(),
            taxes[0]["base"].as_str(),
            taxes[0]["rate_percent"].as_str(),
            taxes[0]["amount"].as_str()
        ),
        (Some("A00"), Some("1000.00"), Some("2.00"), Some("20.00"))
    );
    assert!(taxes[0]["explanation"].as_str().unwrap().contains("851090"));
    assert_eq!(
        assessment["totals"],
        serde_json::json!([{"type": "A00", "amount": "20.00"}, {"type": "B00", "amount": "204.00"}])
    );

    // Another tariff file, given on the command line; a bad one is refused with line and column.
    let dir = tempfile::tempdir().unwrap();
    let tariff = dir.path().join("tariff.csv");
    std::fs::write(&tariff, "commodity_code,tax_type,kind,rate_percent,base\n85,A00,ad_valorem,5,customs_value\n85,B00,ad_valorem,10,customs_value_plus_duties\n").unwrap();
    let output = aduana()
        .args(["assess", "--json", "--tariff"])
        .arg(&tariff)
        .arg(samples.join("TT_IM001b/TT_IM001b.xml"))
        .output()
        .unwrap();
    let assessment: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        assessment["totals"],
        serde_json::json!([{"type": "A00", "amount": "50.00"}, {"type": "B00", "amount": "105.00"}])
    );
    std::fs::write(
        &tariff,
        "commodity_code,tax_type,kind,rate_percent\n85,A00,ad_valorem,five\n",
    )
    .unwrap();
    let output = aduana()
        .args(["assess", "--tariff"])
        .arg(&tariff)
        .arg(samples.join("TT_IM001b/TT_IM001b.xml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("line 2, column rate_percent"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // Exchange rates from a file: TT_IM205a declares EUR 30, 25.50 GBP at the demo's 0.85, 27.00 at 0.90.
    let declared_in_euros = samples.join("TT_IM205a/Step1_TT_IM205a.xml");
    let value_with = |rates: Option<&std::path::Path>| {
        let mut command = aduana();
        command.args(["assess", "--json", "--date", "2026-11-29"]);
        if let Some(rates) = rates {
            command.arg("--rates").arg(rates);
        }
        let output = command.arg(&declared_in_euros).output().unwrap();
        let assessment: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
        (
            output.status.code(),
            assessment["items"][0]["customs_value"].clone(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    assert_eq!(value_with(None).1, "25.50");
    let rates = dir.path().join("rates.csv");
    std::fs::write(&rates, "currency,rate\nEUR,0.90\n").unwrap();
    assert_eq!(value_with(Some(&rates)).1, "27.00");
    std::fs::write(&rates, "currency,rate\nEUR,0.90\nUSD,zero\n").unwrap();
    let (code, _, stderr) = value_with(Some(&rates));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("rates.csv: line 3"), "{stderr}");
}

#[test]
fn users_add_prints_the_token_alone_and_refuses_a_trader_without_party() {
    on_every_database(users_add_prints_the_token_alone_and_refuses_a_trader_without_party_on);
}

fn users_add_prints_the_token_alone_and_refuses_a_trader_without_party_on() {
    let dir = tempfile::tempdir().unwrap();
    let output = aduana()
        .args([
            "users",
            "add",
            "--role",
            "trader",
            "--party",
            "GB603202734852",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let token = stdout.trim_end();
    assert_eq!(stdout.lines().count(), 1);
    assert!(token.starts_with("adu_") && token.len() == 68, "{token}");
    // Only the hash is stored.
    for file in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()));
    }
    let output = aduana()
        .args(["users", "add", "--role", "trader", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_ne!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
}

/// The README's walkthrough with the real binary: serve on a fresh data folder, add users, lodge with the CLI.
#[test]
fn serve_users_add_and_lodge_work_together() {
    on_every_database(serve_users_add_and_lodge_work_together_on);
}

fn serve_users_add_and_lodge_work_together_on() {
    let Some(samples) = test_support::hmrc_samples() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let add = |role: &str, party: Option<&str>| {
        let mut command = aduana();
        command
            .args(["users", "add", "--role", role, "--data-dir"])
            .arg(dir.path());
        if let Some(party) = party {
            command.args(["--party", party]);
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let trader = add("trader", Some("GB603202734852"));
    let mut server = aduana()
        .args(["serve", "--addr", &address, "--data-dir"])
        .arg(dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let healthy = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::net::TcpStream::connect(&address).is_ok()
    });
    let lodge = |token: &str| {
        aduana()
            .args([
                "lodge",
                "--server",
                &format!("http://{address}"),
                "--token",
                token,
            ])
            .arg(samples.join("TT_IM001b/TT_IM001b.xml"))
            .output()
            .unwrap()
    };
    let accepted = lodge(&trader);
    let refused = lodge("wrong-token");
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(healthy, "the server did not start");
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stdout)
    );
    let answer: Value = serde_json::from_slice(&accepted.stdout).unwrap();
    assert!(
        answer["mrn"].as_str().is_some_and(|m| m.len() == 18),
        "{answer}"
    );
    // Finding 4 of issue 14: by default a deferment account nobody opened is refused (it used to be opened on the
    // fly with a 1,000,000 limit): the sample's deferred duties are due, unless a control comes first.
    assert!(
        matches!(
            answer["status"].as_str(),
            Some("awaiting_payment" | "under_control")
        ),
        "{answer}"
    );
    assert_eq!(refused.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(error["code"], "auth.unauthenticated");
    // The data folder holds the selection seed, and the SQLite database when no other is named.
    let on_sqlite = DATABASE.with(|d| d.borrow().is_none());
    assert_eq!(dir.path().join("aduana.db").exists(), on_sqlite);
    assert!(dir.path().join("selection-seed").exists());
}

/// `aduana tariff import…`: a bad file changes nothing and says where it is wrong; good files are listed by
/// `tariff status`; the HS 2022 nomenclature of the shared material imports whole.
#[test]
fn tariff_files_import_all_or_nothing_and_are_listed() {
    on_every_database(tariff_files_import_all_or_nothing_and_are_listed_on);
}

fn tariff_files_import_all_or_nothing_and_are_listed_on() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = aduana()
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "commodity_code,tax_type,kind,rate_percent\n85,A00,ad_valorem,2\n85,A00,fixed,2\n",
    )
    .unwrap();
    let (code, _, stderr) = run(&["tariff", "import", bad.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("nothing imported") && stderr.contains("line 3, column kind"),
        "{stderr}"
    );
    let (code, status, _) = run(&["tariff", "status"]);
    assert_eq!(code, Some(0));
    assert!(status.contains("measures: built-in demo"), "{status}");

    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "commodity_code,tax_type,kind,rate_percent,base\n85,A00,ad_valorem,2,customs_value\n85,B00,ad_valorem,20,customs_value_plus_duties\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run(&["tariff", "import", good.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("2 rows"), "{stdout}");
    let (_, status, _) = run(&["tariff", "status"]);
    assert!(status.contains("measures: good.csv (2 rows"), "{status}");
    // A tariff that does not fit the administration's profile: a tax type it lacks, VAT on the bare value.
    let misfit = dir.path().join("misfit.csv");
    std::fs::write(
        &misfit,
        "commodity_code,tax_type,kind,rate_percent\n85,A00,ad_valorem,2\n85,B00,ad_valorem,20\n86,XYZ,ad_valorem,1\n",
    )
    .unwrap();
    let (code, _, stderr) = run(&["tariff", "import", misfit.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("line 3: The tax type B00 is value added"),
        "{stderr}"
    );

    let Some(shared) = test_support::shared_dir() else {
        return;
    };
    let hs = shared.join("data/hs2022/harmonized-system.csv");
    let (code, stdout, stderr) = run(&["tariff", "import-nomenclature", hs.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("6939 rows"), "{stdout}");
    let national = dir.path().join("national.csv");
    std::fs::write(
        &national,
        "commodity_code,description,valid_from\n85101010,Shavers for the home market,2026-01-01\n",
    )
    .unwrap();
    let (code, _, stderr) = run(&[
        "tariff",
        "import-nomenclature",
        "--national",
        national.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let (_, status, _) = run(&["tariff", "status"]);
    assert!(
        status.contains("nomenclature: harmonized-system.csv (6939 rows")
            && status.contains("national_nomenclature: national.csv (1 rows"),
        "{status}"
    );
}

/// The simulated bank is a real HTTP client of the webhook: `aduana bank pay` signs a confirmation for a payment
/// order of a running server (configured with `ADUANA_BANK_KEYS`), and the declaration is released.
#[test]
fn the_simulated_bank_pays_an_order_on_a_running_server() {
    on_every_database(the_simulated_bank_pays_an_order_on_a_running_server_on);
}

fn the_simulated_bank_pays_an_order_on_a_running_server_on() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let key = "000102030405060708090a0b0c0d0e0f1011121314151617";
    let output = aduana()
        .args([
            "users",
            "add",
            "--role",
            "trader",
            "--party",
            "GB603202734852",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let trader = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let rules = dir.path().join("rules.txt");
    std::fs::write(&rules, "random 0% then yellow\n").unwrap();
    let mut server = aduana()
        .args(["serve", "--addr", &address, "--rules"])
        .arg(&rules)
        .arg("--data-dir")
        .arg(dir.path())
        .env("ADUANA_BANK_KEYS", format!("SIMBANK={key}"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let healthy = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::net::TcpStream::connect(&address).is_ok()
    });
    let minimal = concat!(env!("CARGO_MANIFEST_DIR"), "/../wco/tests/minimal.xml");
    let lodged = aduana()
        .args([
            "lodge",
            "--server",
            &format!("http://{address}"),
            "--token",
            &trader,
            minimal,
        ])
        .output()
        .unwrap();
    let answer: Value = serde_json::from_slice(&lodged.stdout).unwrap_or(Value::Null);
    let id = answer["id"].as_str().unwrap_or_default().to_owned();
    let order: Value = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let response = reqwest::Client::new()
            .post(format!(
                "http://{address}/api/v1/declarations/{id}/payment-orders"
            ))
            .bearer_auth(&trader)
            .send()
            .await
            .unwrap();
        response.json().await.unwrap_or(Value::Null)
    });
    let paid = aduana()
        .args([
            "bank",
            "pay",
            "--server",
            &format!("http://{address}"),
            "--bank",
            "SIMBANK",
            "--key",
            key,
            "--order",
            order["reference"].as_str().unwrap_or_default(),
            "--amount",
            order["amount"].as_str().unwrap_or_default(),
        ])
        .output()
        .unwrap();
    let forged = aduana()
        .args([
            "bank",
            "pay",
            "--server",
            &format!("http://{address}"),
            "--bank",
            "SIMBANK",
            "--key",
            "ffffffffffffffffffffffffffffffff",
            "--order",
            "PO-X",
            "--amount",
            "1.00",
        ])
        .output()
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(healthy, "the server did not start");
    assert_eq!(answer["status"], "awaiting_payment", "{answer}");
    assert_eq!(order["amount"], "224.00", "{order}");
    assert!(
        paid.status.success(),
        "{}",
        String::from_utf8_lossy(&paid.stdout)
    );
    let confirmation: Value = serde_json::from_slice(&paid.stdout).unwrap();
    assert_eq!(
        confirmation["declaration"]["status"], "released",
        "{confirmation}"
    );
    assert_eq!(forged.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&forged.stdout).contains("payment.signature_invalid"));
    // The ledger the server wrote verifies, and shows the revenue.
    let verify = aduana()
        .args(["ledger", "verify", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let verified = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success() && verified.contains("ledger verified"),
        "{verified}"
    );
    let accounts = aduana()
        .args(["ledger", "accounts", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&accounts.stdout);
    assert!(listed.contains("revenue:A00\t20.00 GBP"), "{listed}");
}

/// Finding 17 of issue 14: a token created from the command line while lodgements ran made one lodgement answer
/// 5xx ("database is locked"). Writers begin with `BEGIN IMMEDIATE` now, so the CLI's and the server's wait their
/// turn: lodgements and command-line writes interleave, and none fails.
#[test]
fn command_line_writes_while_the_server_lodges_fail_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let cli = |args: &[&str]| {
        let output = aduana()
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let trader = cli(&[
        "users",
        "add",
        "--role",
        "trader",
        "--party",
        "GB603202734852",
    ]);
    let mut server = aduana()
        .args(["serve", "--addr", &address, "--data-dir"])
        .arg(dir.path())
        .env("ADUANA_RATE_LIMIT", "0")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let healthy = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(25));
        std::net::TcpStream::connect(&address).is_ok()
    });
    assert!(healthy, "the server did not start");
    let xml = String::from_utf8(include_bytes!("../../wco/tests/minimal.xml").to_vec()).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let lodgers: Vec<_> = (0..4)
        .map(|worker| {
            let (address, trader, xml, stop) =
                (address.clone(), trader.clone(), xml.clone(), stop.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::new();
                let mut statuses = Vec::new();
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let lrn = format!("LOCK-{worker}-{n}");
                    n += 1;
                    let body = xml.replace("MINIMAL-1", &lrn);
                    let response = client
                        .post(format!("http://{address}/api/v1/declarations"))
                        .bearer_auth(&trader)
                        .header("content-type", "application/xml")
                        .body(body)
                        .send()
                        .unwrap();
                    statuses.push(response.status().as_u16());
                }
                statuses
            })
        })
        .collect();
    for n in 0..8 {
        let user = cli(&["users", "add", "--role", "officer"]);
        assert!(!user.is_empty());
        let listed = cli(&["tokens", "list"]);
        assert!(!listed.is_empty(), "{n}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let statuses: Vec<u16> = lodgers
        .into_iter()
        .flat_map(|l| l.join().unwrap())
        .collect();
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(statuses.len() >= 4, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
}

/// `aduana config check` says a built-in profile is valid, and names each mistake of a broken one by line and
/// column with a sentence, exiting 1.
#[test]
fn config_check_names_each_mistake_by_line() {
    let shown = aduana()
        .args(["config", "show", "demo-sn"])
        .output()
        .unwrap();
    assert!(shown.status.success());
    let text = String::from_utf8(shown.stdout).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, &text).unwrap();
    let out = aduana()
        .args(["config", "check"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("XOF with 0 decimal places"));

    let bad = dir.path().join("bad.toml");
    let broken = text
        .replacen("code = \"XOF\"", "code = \"XOO\"", 1)
        .replacen("code = \"20A\"", "code = \"10S\"", 1)
        .replacen("basis = \"value_added\"", "", 1);
    std::fs::write(&bad, &broken).unwrap();
    let out = aduana()
        .args(["config", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let printed = String::from_utf8(out.stdout).unwrap();
    let line = |needle: &str| broken.lines().position(|l| l.contains(needle)).unwrap() + 1;
    for (at, sentence) in [
        (line("\"XOO\""), "is not an ISO 4217 code"),
        (
            broken
                .lines()
                .enumerate()
                .filter(|(_, l)| l.contains("code = \"10S\""))
                .nth(1)
                .unwrap()
                .0
                + 1,
            "listed twice",
        ),
        (line("code = \"TVA\""), "has no rate basis"),
    ] {
        assert!(
            printed.lines().any(|l| l.starts_with(&format!("{}:{at}:", bad.display())) && l.contains(sentence)),
            "line {at}, {sentence:?}:\n{printed}"
        );
    }
}

/// `aduana serve --profile FILE` refuses a profile with mistakes before it listens, naming each by line and column;
/// with a good one (here the built-in `demo-sn`) it serves that administration, and a restart without `--profile`
/// keeps the one stored.
#[test]
fn serve_starts_only_with_a_valid_profile_and_keeps_the_stored_one() {
    let dir = tempfile::tempdir().unwrap();
    let shown = aduana()
        .args(["config", "show", "demo-sn"])
        .output()
        .unwrap();
    let text = String::from_utf8(shown.stdout).unwrap();
    let bad = dir.path().join("aduana.toml");
    let broken = text.replacen("code = \"XOF\"", "code = \"XOO\"", 1);
    std::fs::write(&bad, &broken).unwrap();
    let line = broken.lines().position(|l| l.contains("\"XOO\"")).unwrap() + 1;
    let refused = aduana()
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .arg("--profile")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains(&format!(
            "{}:{line}:8: The currency \"XOO\" is not an ISO 4217 code",
            bad.display()
        )),
        "{said}"
    );

    let serve = |profile: Option<&str>| {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("127.0.0.1:{port}");
        let mut command = aduana();
        command
            .args(["serve", "--addr", &address, "--data-dir"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null());
        if let Some(profile) = profile {
            command.args(["--profile", profile]);
        }
        let mut server = command.spawn().unwrap();
        let healthy = (0..200).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            std::net::TcpStream::connect(&address).is_ok()
        });
        assert!(healthy, "the server did not start");
        let shown: Value =
            reqwest::blocking::get(format!("http://{address}/api/v1/administration"))
                .unwrap()
                .json()
                .unwrap();
        server.kill().unwrap();
        server.wait().unwrap();
        shown
    };
    let first = serve(Some("demo-sn"));
    assert_eq!(
        first["profile"]["administration"]["country"], "SN",
        "{first}"
    );
    assert_eq!(first["version"], 1, "{first}");
    let again = serve(None);
    assert_eq!(again["profile"]["currency"]["code"], "XOF", "{again}");
    assert_eq!(
        again["version"], 1,
        "the same profile is not stored twice: {again}"
    );
}

/// `aduana tariff import-uk FILE…` turns the UK Trade Tariff's commodity files into the Single Window's
/// requirements, all or nothing, and `tariff status` lists them.
#[test]
fn uk_commodity_files_import_as_requirements_all_or_nothing() {
    let Some(shared) = test_support::shared_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let folder = shared.join("data/uk-trade-tariff/uk/commodities");
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let bad = dir.path().join("not-a-commodity.json");
    std::fs::write(&bad, "{\"data\": []}").unwrap();
    let run = |files: &[std::path::PathBuf]| {
        let output = aduana()
            .args(["tariff", "import-uk", "--data-dir"])
            .arg(dir.path())
            .args(files)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let mut with_bad = files.clone();
    with_bad.push(bad.clone());
    let (code, _, stderr) = run(&with_bad);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("nothing imported")
            && stderr.contains("not-a-commodity.json: no goods_nomenclature_item_id"),
        "{stderr}"
    );
    let (code, stdout, stderr) = run(&files);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("from 7 files: 18 in use"), "{stdout}");
    // The duties and VAT join the tariff in use (the demonstration's 201 lines), each measure left out named.
    assert!(
        stdout.contains("imported 54 duty and VAT lines into the tariff: 255 lines in use"),
        "{stdout}"
    );
    assert!(
        stdout.contains("left out: 0702000007 measure type 143: tariff quotas are not imported"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("left out: 0809400500 measure type 305: an additional code is not imported"),
        "{stdout}"
    );
    // Imported again: each commodity's lines replaced, not added twice.
    let (code, stdout, _) = run(&files);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("255 lines in use"), "{stdout}");
    let status = aduana()
        .args(["tariff", "status", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.contains("requirements: uk-trade-tariff (7 files) (18 rows"),
        "{status}"
    );
    assert!(
        status.contains("measures: tariff in use + uk-trade-tariff (7 files) (255 rows"),
        "{status}"
    );
}

/// `aduana validate --json` reads entry summary declarations too: over every shared HMRC ENS case, a line per
/// file whose errors carry the ICS `number` and the HMRC-form `pointer`, and the set of them equals the case's
/// control file as often as the checks in the crate reproduce (the same floor).
#[test]
fn validate_reads_entry_summary_declarations_with_ics_numbers_and_locations() {
    let Some(shared) = test_support::shared_dir() else {
        return;
    };
    let root = shared.join("conformance/hmrc-ens/cases");
    let mut files = Vec::new();
    for folder in ["ruleTestCases315New", "ruleTestCases313New"] {
        files.extend(
            test_support::files_under(&root.join(folder))
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "xml")),
        );
    }
    let output = aduana()
        .args(["validate", "--json"])
        .args(&files)
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "some cases are invalid");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), files.len());
    let mut reproduced = 0;
    for (file, line) in files.iter().zip(&lines) {
        let control = std::fs::read_to_string(file.with_extension("ctl")).unwrap();
        // The control file's (number, location) pairs, read plainly: each <err:Number> with its <err:Location>.
        let mut expected = std::collections::BTreeSet::new();
        for error in control.split("<err:Error>").skip(1) {
            let field = |tag: &str| {
                error
                    .split(&format!("<err:{tag}>"))
                    .nth(1)
                    .and_then(|rest| rest.split('<').next())
                    .map(str::to_owned)
            };
            if let Some(number) = field("Number") {
                expected.insert((number, field("Location").unwrap_or_default()));
            }
        }
        let found: std::collections::BTreeSet<(String, String)> = line["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| {
                Some((
                    e.get("number")?.to_string(),
                    e["pointer"].as_str()?.to_owned(),
                ))
            })
            .collect();
        let schema_refused = line["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "entry_summary.schema");
        if (expected.is_empty() || !schema_refused) && found == expected {
            reproduced += 1;
        }
        assert!(line["valid"] == true || line["kind"].is_null(), "{line}");
    }
    assert_eq!(reproduced, files.len(), "every rule case reproduced");
    eprintln!(
        "aduana validate: {reproduced} of {} HMRC ENS rule cases reproduced",
        files.len()
    );
}

/// `aduana bench-cargo` at a small size: it runs end to end, every consignment matched, and says how it did.
#[test]
fn bench_cargo_matches_every_consignment_of_a_small_report() {
    let Some(samples) = test_support::hmrc_samples() else {
        return;
    };
    let output = aduana()
        .args(["bench-cargo", "--sample"])
        .arg(samples.join("TT_IM001b/TT_IM001b.xml"))
        .args([
            "--consignments",
            "30",
            "--reports",
            "3",
            "--per-report",
            "10",
            "--runs",
            "1",
        ])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        text.contains("report of 30 consignments matched to its declarations")
            && text.contains("30 declared")
            && text.contains("reconciliation over 3 reports, 30 consignments"),
        "{text}"
    );
}

/// `aduana validate --json` reads NCTS phase 5 messages too, XML and JSON, each line naming the message: over every
/// shared sample, a valid verdict exactly where the transit reader gives one (the reader's own agreement with
/// libxml2 is tested in `crates/transit`).
#[test]
fn validate_reads_ncts_messages() {
    let Some(shared) = test_support::shared_dir() else {
        return;
    };
    let mut files = test_support::files_under(&shared.join("conformance/ncts-p5/messages"));
    files.sort();
    let output = aduana()
        .args(["validate", "--json"])
        .args(&files)
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), files.len());
    let mut valid = 0;
    for (file, line) in files.iter().zip(&lines) {
        let bytes = std::fs::read(file).unwrap();
        let json = file.extension().is_some_and(|e| e == "json");
        let ours = transit::judge(&bytes, json, &[], &transit::Limits::default());
        assert_eq!(
            line["valid"] == true,
            ours.is_ok(),
            "{}: {line}",
            file.display()
        );
        if let Ok(message) = ours {
            valid += 1;
            assert_eq!(line["kind"], message.name(), "{line}");
        }
    }
    assert!(
        valid > 0 && valid < files.len(),
        "{valid} valid samples: both verdicts occur"
    );
}

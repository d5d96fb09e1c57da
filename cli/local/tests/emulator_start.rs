//! The emulator starts reliably or says why: a start on a port another
//! process holds fails at once with what moto printed, not after a timeout.

use std::time::{Duration, Instant};

use custops_local::emulator::{Emulator, EmulatorError};

#[tokio::test]
async fn a_start_on_a_taken_port_fails_at_once_with_the_reason() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let started = Instant::now();
    let err = Emulator::start(port).await.expect_err("the port is taken");
    assert!(started.elapsed() < Duration::from_secs(60), "waited {:?}", started.elapsed());
    match err {
        EmulatorError::Exited { stderr, .. } => assert!(stderr.contains("in use"), "{stderr}"),
        other => panic!("not the reason: {other}"),
    }
    // On a free port (chosen again if taken meanwhile) it answers.
    let emulator = Emulator::start(0).await.unwrap();
    assert!(reqwest::get(format!("{}/moto-api/", emulator.endpoint)).await.unwrap().status().is_success());
    emulator.stop().await;
}

/// Two test processes once chose the same free port: the second's moto could
/// not bind it, but the first's answered its readiness check, and both tests
/// provisioned one emulator ("Table already exists"). A start is ready only
/// when its own process answers.
#[tokio::test]
async fn a_start_on_a_port_another_emulator_serves_is_refused_not_shared() {
    let first = Emulator::start(0).await.unwrap();
    let started = Instant::now();
    let err = Emulator::start(first.port).await.expect_err("the port is the first emulator's");
    assert!(started.elapsed() < Duration::from_secs(60), "waited {:?}", started.elapsed());
    match err {
        EmulatorError::Taken { endpoint, holder } => {
            assert_eq!(endpoint, first.endpoint);
            assert!(holder.starts_with("the emulator of process "), "{holder}");
        }
        other => panic!("not refused as taken: {other}"),
    }
    // The first one is untouched and still answers.
    assert!(reqwest::get(format!("{}/moto-api/", first.endpoint)).await.unwrap().status().is_success());
    first.stop().await;
}

/// Emulators forked from the zygote (the test harness's): each its own
/// process and state, side by side, gone once stopped.
#[tokio::test]
async fn forked_emulators_are_separate_servers_each_ended_when_stopped() {
    let (a, b) = tokio::join!(Emulator::start_forked(), Emulator::start_forked());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.port, b.port);
    let pid = |e: &Emulator| {
        let url = format!("{}/custops-emulator/pid", e.endpoint);
        async move { reqwest::get(url).await.unwrap().text().await.unwrap() }
    };
    let (pid_a, pid_b) = (pid(&a).await, pid(&b).await);
    assert_ne!(pid_a, pid_b);
    // State is per server: a queue made on one is not on the other.
    let client = reqwest::Client::new();
    let create = client
        .post(&a.endpoint)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request")
        .body("Action=CreateQueue&QueueName=only-on-a&Version=2012-11-05")
        .send()
        .await
        .unwrap();
    assert!(create.status().is_success(), "{}", create.text().await.unwrap());
    let list = |e: &Emulator| {
        let req = client
            .post(&e.endpoint)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request")
            .body("Action=ListQueues&Version=2012-11-05");
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    assert!(list(&a).await.contains("only-on-a"));
    assert!(!list(&b).await.contains("only-on-a"));
    let endpoint = a.endpoint.clone();
    a.stop().await;
    assert!(reqwest::get(format!("{endpoint}/moto-api/")).await.is_err(), "a stopped emulator still answers");
    assert!(reqwest::get(format!("{}/moto-api/", b.endpoint)).await.unwrap().status().is_success());
    drop(b);
}

/// A forked emulator is the zygote's child, not its owner's: it watches its
/// owner and ends when the owner is gone, as a directly started one does, so
/// a test killed before its drop ran leaves no server behind.
#[tokio::test]
async fn a_forked_emulator_ends_when_the_process_that_asked_for_it_is_killed() {
    const NAME: &str = "a_forked_emulator_ends_when_the_process_that_asked_for_it_is_killed";
    if std::env::var_os("CUSTOPS_TEST_FORKED_OWNER").is_some() {
        // The owner: starts one, says where, and waits to be killed.
        let emulator = Emulator::start_forked().await.unwrap();
        println!("ENDPOINT {}", emulator.endpoint);
        tokio::time::sleep(Duration::from_secs(120)).await;
        return;
    }
    use std::io::BufRead as _;
    let mut owner = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", NAME, "--nocapture"])
        .env("CUSTOPS_TEST_FORKED_OWNER", "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(owner.stdout.take().unwrap());
    let endpoint = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("ENDPOINT ").map(str::to_owned))
        .expect("the owner started an emulator");
    assert!(reqwest::get(format!("{endpoint}/moto-api/")).await.unwrap().status().is_success());
    owner.kill().unwrap();
    owner.wait().unwrap();
    let killed = Instant::now();
    while reqwest::get(format!("{endpoint}/moto-api/")).await.is_ok() {
        assert!(killed.elapsed() < Duration::from_secs(10), "the forked emulator outlived its owner");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

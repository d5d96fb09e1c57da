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

//! Cold start, size, memory and init of every function's deploy build,
//! run as Lambda runs it (the Runtime API), against the emulator.

use super::*;

/// Cold start of one program: exec to its first Runtime API `next`, over `runs`.
#[derive(Debug, Clone, Serialize)]
pub struct ColdStart {
    pub program: String,
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub runs: usize,
}

/// Everything `cargo perf` measures about the deployable binaries.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeReport {
    pub cold_starts: Vec<ColdStart>,
    /// Where the missed-call cold start goes, and what the warm-up does.
    pub init: Vec<InitRow>,
    /// Per function: (bootstrap bytes, zip bytes).
    pub sizes: Vec<(String, u64, u64)>,
    /// Per function: peak RSS after a batch of 10 of its own events (a
    /// scheduled function: after one run).
    pub peak_rss: Vec<(String, u64)>,
    /// Batch wall times with latency on every AWS call, against the stand-in
    /// (the emulator's answers, replayed) and against the emulator itself.
    pub concurrency: Vec<Concurrency>,
    /// How the stand-in answered the replayed requests.
    pub stand_in_answered: Vec<crate::stand_in::Answered>,
}

/// One way of starting missed-call, medians over `runs` cold starts.
#[derive(Debug, Clone, Serialize)]
pub struct InitRow {
    /// `WARM_UP` ("none": no warm-up).
    pub warm_up: String,
    /// Latency on every AWS call; a new connection's first call waits twice as long more.
    pub latency_ms: u64,
    pub runs: usize,
    /// Exec to the first Runtime API `next`.
    pub exec_to_next_ms: f64,
    /// From the function's `init` log line.
    pub config_ms: f64,
    pub build_ms: f64,
    pub warm_ms: f64,
    pub init_total_ms: f64,
    /// Wall time of the first event (a new caller) and of the second.
    pub first_event_ms: f64,
    pub second_event_ms: f64,
}

/// Median wall time of a batch of 1 and of 10 with `latency_ms` on every AWS call.
#[derive(Debug, Clone, Serialize)]
pub struct Concurrency {
    /// "stand-in" (fixed latency, the emulator's answers) or "emulator".
    pub against: String,
    pub latency_ms: u64,
    pub one_message_ms: f64,
    pub ten_messages_ms: f64,
}

pub(crate) fn millis(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(crate) fn median(mut xs: Vec<f64>) -> (f64, f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    xs.sort_by(|a, b| a.total_cmp(b));
    let mid = xs.len() / 2;
    let median = if xs.len().is_multiple_of(2) { (xs[mid - 1] + xs[mid]) / 2.0 } else { xs[mid] };
    (median, xs[0], xs[xs.len() - 1])
}

pub(crate) async fn cold_start(
    program: &str,
    argv: &[std::path::PathBuf],
    env: &std::collections::HashMap<String, String>,
    endpoint: &str,
    runs: usize,
) -> Result<ColdStart, BoxError> {
    use custops_cli::runtime_api::BootstrapProcess;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let process = BootstrapProcess::spawn_argv(argv, program, env, Some(endpoint)).await?;
        times.push(millis(process.ready(std::time::Duration::from_secs(30)).await?));
    }
    let (median_ms, min_ms, max_ms) = median(times);
    Ok(ColdStart { program: program.into(), median_ms, min_ms, max_ms, runs })
}

pub(crate) fn sqs_event(bodies: &[String]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| {
            json!({"messageId": format!("bench-{i}"), "receiptHandle": "r", "body": b,
                   "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                   "eventSource": "aws:sqs", "awsRegion": "us-east-1"})
        })
        .collect();
    json!({ "Records": records })
}

/// Missed calls from callers never seen before in this run (each one is texted:
/// 4 AWS calls), tagged `prefix`.
pub(crate) struct NewCallers(std::sync::atomic::AtomicUsize);

impl NewCallers {
    fn calls(&self, prefix: &str, n: usize) -> Vec<String> {
        let at: DateTime<Utc> = "2026-11-23T16:00:00Z".parse().unwrap_or_default();
        (0..n)
            .map(|i| {
                let k = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                call(&format!("{prefix}-{i}"), &format!("{prefix}-{i}"), &format!("+1512555{:04}", 1000 + k % 9000), at)
            })
            .collect()
    }
}

/// Cold starts (vs a minimal `lambda_runtime` binary and a boto3 handler),
/// init broken down with and without the warm-up, sizes, peak memory and
/// batch concurrency under injected latency, for the binaries `cargo
/// artifacts` built.
pub async fn runtime(runs: usize, latency: std::time::Duration) -> Result<RuntimeReport, BoxError> {
    use custops_cli::runtime_api::BootstrapProcess;
    use custops_dev::artifacts::{target_dir, workspace};
    use std::time::Duration as Span;

    // Every function the registry knows (the template deploys exactly these: a test holds them to it).
    let functions: Vec<String> = custops_cli::registry::FUNCTIONS.iter().map(|r| r.name.to_owned()).collect();
    let lambda_dir = target_dir().join("lambda");
    // Always from the current code (cargo rebuilds only what changed).
    // For this machine: they run here, beside the baseline.
    let host = custops_dev::arch::Arch::host().ok_or("this machine is neither arm64 nor x86_64")?;
    eprintln!("custops-bench: building the deploy binaries (cargo artifacts --arch {})", host.name());
    let artifacts =
        tokio::task::spawn_blocking(move || custops_dev::artifacts::build(host)).await.map_err(|e| e.to_string())??;
    custops_dev::artifacts::check_glibc(&artifacts)?;
    // The baseline binary, with the same profile.
    let status = custops_local::cargo()
        .current_dir(workspace())
        .args([
            "build",
            "--quiet",
            "--locked",
            "--profile",
            "deploy",
            "--package",
            "custops-bench",
            "--example",
            "hello_lambda",
        ])
        .status()?;
    if !status.success() {
        return Err("building the hello-world baseline failed".into());
    }
    let hello = target_dir().join("deploy").join("examples").join("hello_lambda");
    let python = custops_cli::emulator::ensure_installed()?;
    let boto3 = workspace().join("cli").join("bench").join("boto3_handler.py");

    let emulator = Emulator::start(0).await?;
    let clock = PinnedClock::at("2026-11-23T16:00:00Z".parse()?);
    let stack = LocalStack::provision(&emulator.endpoint, Arc::new(clock), LocalOptions::default()).await?;
    stack.table().put_store(&custops::StoreConfig::from_json(STORE)?).await?;
    // The store that takes leads by mail (lead-email's sample).
    stack.table().put_store(&custops::StoreConfig::from_json(PROMISING)?).await?;
    let env_of = |binary: &str| {
        stack.functions.iter().find(|f| f.def.binary == binary).map(|f| f.def.env.clone()).unwrap_or_default()
    };

    let mut cold_starts = vec![
        cold_start("hello-world (lambda_runtime)", &[hello], &Default::default(), &emulator.endpoint, runs).await?,
    ];
    // Like for like with the hello-world: no AWS call during init (the init
    // table below shows what the warm-up adds, and saves the first event).
    let no_warm_up = |f: &str| {
        let mut env = env_of(f);
        env.insert(custops::env::WARM_UP.into(), String::new());
        env
    };
    for f in &functions {
        cold_starts.push(
            cold_start(f, &[lambda_dir.join(f).join("bootstrap")], &no_warm_up(f), &emulator.endpoint, runs).await?,
        );
    }
    cold_starts.push(
        cold_start("python boto3 handler", &[python, boto3], &Default::default(), &emulator.endpoint, runs.min(5))
            .await?,
    );

    let mut sizes = Vec::new();
    for f in &functions {
        let dir = lambda_dir.join(f);
        sizes.push((
            f.clone(),
            std::fs::metadata(dir.join("bootstrap"))?.len(),
            std::fs::metadata(dir.join("bootstrap.zip"))?.len(),
        ));
    }

    let callers = NewCallers(Default::default());
    let binary = lambda_dir.join("missed-call").join("bootstrap");
    let upstream = emulator.endpoint.trim_start_matches("http://").to_owned();

    // Init, with and without the warm-up: directly against the emulator, and
    // with latency on every call (a new connection's first call pays a
    // TCP + TLS 1.3 handshake more: two round trips).
    let mut init = Vec::new();
    for delay in [Span::ZERO, latency] {
        let proxy = crate::latency_proxy::LatencyProxy::with_handshake(&upstream, delay, delay * 2).await?;
        for warm_up in ["", "dynamodb,sns"] {
            let mut env = env_of("missed-call");
            env.insert(custops::env::WARM_UP.into(), warm_up.into());
            let mut samples: Vec<[f64; 7]> = Vec::new();
            for run in 0..runs {
                let p = BootstrapProcess::spawn(&binary, "missed-call", &env, Some(&proxy.endpoint)).await?;
                let exec_to_next = millis(p.ready(Span::from_secs(30)).await?);
                let first = millis(invoke_batch(&p, callers.calls(&format!("i{run}a"), 1)).await?);
                let second = millis(invoke_batch(&p, callers.calls(&format!("i{run}b"), 1)).await?);
                let logged = init_line(&p.logs()).ok_or("missed-call logged no init line")?;
                let f = |k: &str| logged["fields"][k].as_f64().unwrap_or(f64::NAN);
                samples.push([exec_to_next, f("config_ms"), f("build_ms"), f("warm_ms"), f("total_ms"), first, second]);
            }
            let med = |i: usize| median(samples.iter().map(|s| s[i]).collect()).0;
            init.push(InitRow {
                warm_up: if warm_up.is_empty() { "none".into() } else { warm_up.into() },
                latency_ms: delay.as_millis() as u64,
                runs,
                exec_to_next_ms: med(0),
                config_ms: med(1),
                build_ms: med(2),
                warm_ms: med(3),
                init_total_ms: med(4),
                first_event_ms: med(5),
                second_event_ms: med(6),
            });
        }
    }

    // Peak memory of each function after a batch of 10 of its own events
    // (in registry order: deal-delivered's buyers are win-back's lapsed).
    let mut peak_rss = Vec::new();
    for f in &functions {
        let p = BootstrapProcess::spawn(&lambda_dir.join(f).join("bootstrap"), f, &env_of(f), Some(&emulator.endpoint))
            .await?;
        p.ready(Span::from_secs(10)).await?;
        invoke(&p, sample_payload(f, &callers)?)
            .await
            .map_err(|e| format!("{f}: {e}; its log:\n{}", p.logs().join("\n")))?;
        peak_rss.push((f.clone(), p.peak_rss().unwrap_or_default()));
    }

    // Concurrency: every AWS call delayed; ten messages should cost about one.
    // First against the stand-in, which answers as the emulator did, each call
    // after exactly the latency; then against the emulator, whose own work is serial.
    let mut concurrency = Vec::new();
    let mut stand_in_answered = Vec::new();
    let missed_call_env = env_of("missed-call");
    let run = |endpoint: String, warm: Vec<String>, batches: Vec<(Vec<String>, Vec<String>)>| {
        let (binary, env) = (&binary, &missed_call_env);
        async move { batch_medians(binary, env, &endpoint, &warm, &batches).await }
    };
    let batches: Vec<(Vec<String>, Vec<String>)> =
        (0..3).map(|rep| (callers.calls(&format!("s{rep}o"), 1), callers.calls(&format!("s{rep}t"), 10))).collect();
    let warm = callers.calls("s-warm", 1);
    let stand_in = crate::stand_in::StandIn::start(&emulator.endpoint).await?;
    // The recording run (through to the emulator), then the same run replayed.
    run(stand_in.endpoint.clone(), warm.clone(), batches.clone()).await?;
    for delay in [Span::ZERO, latency, Span::from_millis(100)] {
        stand_in.replay(delay);
        let (one, ten) = run(stand_in.endpoint.clone(), warm.clone(), batches.clone()).await?;
        stand_in_answered.push(stand_in.answered());
        concurrency.push(Concurrency {
            against: "stand-in".into(),
            latency_ms: delay.as_millis() as u64,
            one_message_ms: one,
            ten_messages_ms: ten,
        });
    }
    for delay in [Span::ZERO, latency, Span::from_millis(100)] {
        let proxy = crate::latency_proxy::LatencyProxy::start(&upstream, delay).await?;
        // New callers each time: the emulator keeps what earlier runs wrote.
        let tag = delay.as_millis();
        let batches = (0..3)
            .map(|rep| (callers.calls(&format!("o{tag}r{rep}"), 1), callers.calls(&format!("t{tag}r{rep}"), 10)))
            .collect();
        let (one, ten) = run(proxy.endpoint.clone(), callers.calls(&format!("w{tag}"), 1), batches).await?;
        concurrency.push(Concurrency {
            against: "emulator".into(),
            latency_ms: tag as u64,
            one_message_ms: one,
            ten_messages_ms: ten,
        });
    }
    emulator.stop().await;
    Ok(RuntimeReport { cold_starts, init, sizes, peak_rss, concurrency, stand_in_answered })
}

/// Starts missed-call against `endpoint`, sends `warm`, then each (batch of
/// 1, batch of 10) in turn; the median wall times of the ones and of the tens.
pub(crate) async fn batch_medians(
    binary: &std::path::Path,
    env: &std::collections::HashMap<String, String>,
    endpoint: &str,
    warm: &[String],
    batches: &[(Vec<String>, Vec<String>)],
) -> Result<(f64, f64), BoxError> {
    let p = custops_cli::runtime_api::BootstrapProcess::spawn(binary, "missed-call", env, Some(endpoint)).await?;
    p.ready(std::time::Duration::from_secs(10)).await?;
    invoke_batch(&p, warm.to_vec()).await?;
    let (mut ones, mut tens) = (Vec::new(), Vec::new());
    for (one, ten) in batches {
        ones.push(millis(invoke_batch(&p, one.clone()).await?));
        tens.push(millis(invoke_batch(&p, ten.clone()).await?));
    }
    Ok((median(ones).0, median(tens).0))
}

/// The function's `init` log line (see `custops::function::cold_start`),
/// written before its first `next`.
pub(crate) fn init_line(logs: &[String]) -> Option<Value> {
    logs.iter().filter_map(|l| serde_json::from_str::<Value>(l).ok()).find(|v| v["fields"]["message"] == "init")
}

/// What a function is given to measure its memory: a batch of 10 of its own
/// events, each for a different customer (a scheduled function: its tick).
pub(crate) fn sample_payload(function: &str, callers: &NewCallers) -> Result<Value, BoxError> {
    let at: DateTime<Utc> = "2026-11-23T16:00:00Z".parse()?;
    let long_ago = Utc::now() - Duration::days(430);
    let phone = |i: usize| format!("+1512555{:04}", 2000 + i);
    let bodies: Vec<String> = match function {
        "missed-call" => callers.calls("rss", 10),
        "vehicle-ready" => (0..10)
            .map(|i| ro(&format!("rss-ro-{i}"), "parts_arrived", at).replace("+15125550142", &phone(i)))
            .map(|b| b.replace("RO-48213", "RO-RSS"))
            .collect(),
        "inbound-sms" => (0..10)
            .map(|i| {
                json!({"originationNumber": phone(10 + i), "destinationNumber": "+15125550100",
                       "messageKeyword": "KEYWORD", "messageBody": "Is my car ready yet?",
                       "inboundMessageId": format!("rss-in-{i}"), "previousPublishedMessageId": "p"})
                .to_string()
            })
            .collect(),
        "declined-service" => (0..10)
            .map(|i| {
                ro_closed(&format!("rss-close-{i}"), "RO-RSS2", at, declined_lines())
                    .replace("+15125550142", &phone(20 + i))
            })
            .collect(),
        "appointments" => {
            (0..10).map(|i| no_show(&format!("rss-ns-{i}"), &format!("A-R{i}"), &phone(30 + i), at)).collect()
        }
        "deal-delivered" => {
            (0..10).map(|i| delivered(&format!("rss-deal-{i}"), &format!("D-R{i}"), &phone(40 + i), long_ago)).collect()
        }
        "win-back" => (0..10).map(|i| lapsed(&phone(40 + i), long_ago)).collect(),
        "scheduler" | "lapse-sweep" | "daily-report" => return Ok(scheduled_tick()),
        "front-door" => return Ok(http_api_request()),
        "staff-inbox" => return Ok(http_api_get("/app/signin", "GET /app/{proxy+}")),
        "lead-email" => (0..10).map(|i| lead_mail(&format!("rss-lead-{i}"), &phone(50 + i))).collect(),
        // Ten of the front door's deliveries, each a repair order's snapshot seen first.
        "dms-feed" => (0..10)
            .map(|i| {
                let snapshot = json!({"kind": "repair_order", "store_id": "northside-chevy", "as_of": at,
                    "ro_number": format!("R-RSS{i}"), "status": "in_progress",
                    "customer": {"dms_id": format!("C-RSS{i}"), "first_name": "Maria", "last_name": "Lopez", "phone": phone(70 + i)},
                    "vehicle": {"vin": "1GNSKCKD5MR000001", "year": 2021, "make": "Chevrolet", "model": "Tahoe"},
                    "advisor": {"id": "A-12", "name": "Dave"}, "lines": []});
                json!({"store_id": "northside-chevy", "received_at": at, "snapshots": [snapshot]}).to_string()
            })
            .collect(),
        "sms-receipts" => {
            // Ten of SNS's delivery records, for texts this stack never sent (read, matched to nothing).
            let records: Vec<String> = (0..10)
                .map(|i| {
                    json!({"notification": {"messageId": format!("rss-receipt-{i}"), "timestamp": "2026-11-23 16:00:01.000"},
                           "delivery": {"phoneCarrier": "My Phone Carrier", "mnc": 270, "destination": phone(60 + i),
                                        "priceInUSD": 0.00645, "smsType": "Transactional", "mcc": 310,
                                        "providerResponse": "Message has been accepted by phone carrier",
                                        "dwellTimeMs": 599, "dwellTimeMsUntilDeviceAck": 1344},
                           "status": "SUCCESS"})
                    .to_string()
                })
                .collect();
            let group = format!(
                "sns/{}/{}/DirectPublishToPhoneNumber",
                custops::aws::LOCAL_REGION,
                custops::aws::LOCAL_ACCOUNT
            );
            return custops_cli::local::logs_event(custops::aws::LOCAL_ACCOUNT, &group, &records);
        }
        other => return Err(format!("no sample events for {other}").into()),
    };
    Ok(sqs_event(&bodies))
}

/// A `GET` of `path` through API Gateway's HTTP API (payload 2.0) on `route`.
pub(crate) fn http_api_get(path: &str, route: &str) -> Value {
    json!({
        "version": "2.0", "routeKey": route, "rawPath": path, "rawQueryString": "",
        "headers": {"host": "abc123.execute-api.us-east-1.amazonaws.com", "x-forwarded-proto": "https"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123", "requestId": "bench-2", "routeKey": route,
            "stage": "$default", "time": "23/Nov/2026:16:05:00 +0000", "timeEpoch": 1795449900000u64,
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.10", "userAgent": "custops-bench"}
        },
        "isBase64Encoded": false
    })
}

/// One request through API Gateway's HTTP API (payload 2.0), as Lambda
/// passes it: a connector's POST without a signature (answered 403 after the
/// store's secret is looked up: the cold start and one Secrets Manager call).
pub(crate) fn http_api_request() -> Value {
    json!({
        "version": "2.0", "routeKey": "POST /hooks/{store_id}/events",
        "rawPath": "/hooks/northside-chevy/events", "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "abc123.execute-api.us-east-1.amazonaws.com",
                    "x-forwarded-proto": "https"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123", "requestId": "bench-1", "routeKey": "POST /hooks/{store_id}/events",
            "stage": "$default", "time": "23/Nov/2026:16:05:00 +0000", "timeEpoch": 1795449900000u64,
            "http": {"method": "POST", "path": "/hooks/northside-chevy/events", "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.10", "userAgent": "custops-bench"}
        },
        "pathParameters": {"store_id": "northside-chevy"},
        "body": "{}", "isBase64Encoded": false
    })
}

/// EventBridge's scheduled event, as Lambda passes it.
pub(crate) fn scheduled_tick() -> Value {
    json!({"version": "0", "id": "bench", "detail-type": "Scheduled Event", "source": "aws.events",
           "account": "123456789012", "time": Utc::now(), "region": "us-east-1", "resources": [], "detail": {}})
}

/// Sends one payload to a running function; its wall time if nothing in it failed.
pub(crate) async fn invoke(
    p: &custops_cli::runtime_api::BootstrapProcess,
    payload: Value,
) -> Result<std::time::Duration, BoxError> {
    let payload = serde_json::to_vec(&payload)?;
    let started = std::time::Instant::now();
    match p.api.invoke(payload, std::time::Duration::from_secs(60)).await? {
        custops_cli::runtime_api::Outcome::Response(body)
            if !String::from_utf8_lossy(&body).contains("itemIdentifier") =>
        {
            Ok(started.elapsed())
        }
        other => Err(format!("the invocation failed: {other:?}").into()),
    }
}

/// Sends one SQS batch to a running function; its wall time if no message failed.
pub(crate) async fn invoke_batch(
    p: &custops_cli::runtime_api::BootstrapProcess,
    bodies: Vec<String>,
) -> Result<std::time::Duration, BoxError> {
    invoke(p, sqs_event(&bodies)).await
}

/// The runtime report as Markdown.
pub fn runtime_tables(r: &RuntimeReport) -> String {
    let hello = r.cold_starts.first().map(|c| c.median_ms).unwrap_or(f64::NAN);
    let python = r.cold_starts.last().map(|c| c.median_ms).unwrap_or(f64::NAN);
    let mut out = String::from("### Cold start: exec to the first Runtime API `next` (no warm-up)\n\n");
    out.push_str(&table(
        &[
            ("program", false),
            ("median ms", true),
            ("min", true),
            ("max", true),
            ("runs", true),
            ("vs hello-world", true),
            ("faster than Python", true),
        ],
        r.cold_starts.iter().map(|c| {
            vec![
                c.program.clone(),
                format!("{:.2}", c.median_ms),
                format!("{:.2}", c.min_ms),
                format!("{:.2}", c.max_ms),
                c.runs.to_string(),
                format!("{:.1}x", c.median_ms / hello),
                format!("{:.0}x", python / c.median_ms),
            ]
        }),
    ));
    out.push_str("\n### Init (missed-call): where the cold start goes, with and without the warm-up, medians\n\n");
    let ms = |v: f64| format!("{v:.2} ms");
    out.push_str(&table(
        &[
            ("latency per AWS call", true),
            ("WARM_UP", false),
            ("exec to `next`", true),
            ("aws-config", true),
            ("clients etc.", true),
            ("warm-up", true),
            ("init total", true),
            ("first event", true),
            ("second event", true),
        ],
        r.init.iter().map(|i| {
            vec![
                format!("{} ms", i.latency_ms),
                i.warm_up.clone(),
                ms(i.exec_to_next_ms),
                ms(i.config_ms),
                ms(i.build_ms),
                ms(i.warm_ms),
                ms(i.init_total_ms),
                format!("{:.1} ms", i.first_event_ms),
                format!("{:.1} ms", i.second_event_ms),
            ]
        }),
    ));
    out.push_str("\n### Size\n\n");
    let mb = |bytes: u64| format!("{:.2} MB", bytes as f64 / 1e6);
    out.push_str(&table(
        &[("function", false), ("bootstrap", true), ("bootstrap.zip", true)],
        r.sizes.iter().map(|(f, b, z)| vec![f.clone(), mb(*b), mb(*z)]),
    ));
    out.push_str("\n### Memory: peak RSS after a batch of 10 of the function's own events (scheduled: one run)\n\n");
    out.push_str(&table(
        &[("function", false), ("peak RSS", true)],
        r.peak_rss.iter().map(|(f, bytes)| vec![f.clone(), format!("{:.1} MB", *bytes as f64 / 1e6)]),
    ));
    out.push_str("\n### Concurrency (missed-call): a batch of 10 beside a batch of 1, median of 3\n\n");
    out.push_str(&table(
        &[
            ("AWS answered by", false),
            ("latency per AWS call", true),
            ("batch of 1", true),
            ("batch of 10", true),
            ("wall-time ratio", true),
        ],
        r.concurrency.iter().map(|c| {
            vec![
                c.against.clone(),
                format!("{} ms", c.latency_ms),
                format!("{:.0} ms", c.one_message_ms),
                format!("{:.0} ms", c.ten_messages_ms),
                format!("{:.2}x", c.ten_messages_ms / c.one_message_ms),
            ]
        }),
    ));
    let answered = r
        .stand_in_answered
        .iter()
        .fold([0, 0, 0], |[a, b, c], x| [a + x.same_request, b + x.same_operation, c + x.passed_through]);
    out.push_str(&format!(
        "\nThe stand-in answered {} requests with the emulator's answer to the same request, {} with its answer to the same operation, and passed {} through.\n",
        answered[0], answered[1], answered[2]
    ));
    out
}

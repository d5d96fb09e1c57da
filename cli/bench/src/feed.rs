//! The DMS feed at a DMS's volumes (CONTRACT.md section 13, docs/benchmarks.md):
//! AWS calls and read and write units per 1,000 snapshots when none changed
//! and when 5% changed, snapshots per second, and the bench's peak memory
//! while a file of 10,000 and of 100,000 rows is taken (flat: a stream).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use custops::feed::Snapshot;
use custops::PinnedClock;
use custops_cli::emulator::{CallRecorder, Emulator};
use custops_cli::local::{LocalOptions, LocalStack};
use custops_cli::BoxError;
use serde::Serialize;
use serde_json::{json, Value};

use crate::calls::STORE;
use crate::scale::{peak_rss, reset_peak_rss};

/// One pass of snapshots through the feed, and what it cost.
#[derive(Debug, Clone, Serialize)]
pub struct FeedPass {
    pub pass: String,
    pub snapshots: usize,
    pub changed: usize,
    /// Every AWS call, by operation.
    pub calls: BTreeMap<String, usize>,
    /// Read calls (`BatchGetItem`, `GetItem`) and the read units they bill
    /// (each memory item is under 4 KB, read consistently: one unit a key).
    pub read_calls: usize,
    pub read_units: usize,
    /// Write calls (`PutItem`, `UpdateItem`), one write unit each (items under 1 KB).
    pub write_units: usize,
    pub seconds: f64,
    pub snapshots_per_second: f64,
}

/// A file of the feed bucket, taken whole.
#[derive(Debug, Clone, Serialize)]
pub struct FeedFileRun {
    pub rows: usize,
    pub seconds: f64,
    pub rows_per_second: f64,
    /// The bench's peak RSS while the file was taken (reset before it).
    pub peak_rss: u64,
}

fn ro(i: usize, status: &str, as_of: DateTime<Utc>) -> Value {
    json!({"kind": "repair_order", "store_id": "northside-chevy", "as_of": as_of, "ro_number": format!("R-B{i}"),
           "status": status,
           "customer": {"dms_id": format!("CB{i}"), "first_name": "Pat", "last_name": "Owner", "phone": format!("+1512{:07}", 4_000_000 + i)},
           "vehicle": {"vin": format!("VIN{i}"), "year": 2020, "make": "Chevrolet", "model": "Malibu"},
           "advisor": {"id": "adv-1", "name": "Dana Whitfield"}, "lines": []})
}

/// `snapshots` open repair orders through the feed three times (first seen,
/// again unchanged, again with 5% changed), a hundred a delivery as the front
/// door sends them; then files of `file_rows` rows.
pub async fn feed_scale(snapshots: usize, file_rows: &[usize]) -> Result<(Vec<FeedPass>, Vec<FeedFileRun>), BoxError> {
    let t0: DateTime<Utc> = "2026-11-24T13:00:00Z".parse()?;
    let clock = PinnedClock::at(t0);
    let emulator = Emulator::start(0).await?;
    let stack = LocalStack::provision(&emulator.endpoint, Arc::new(clock.clone()), LocalOptions::default()).await?;
    stack.table().put_store(&custops::StoreConfig::from_json(STORE)?).await?;
    let def = stack.functions.iter().find(|f| f.def.binary == dms_feed::NAME).ok_or("no dms-feed")?.def.clone();
    let config = custops::aws::local(&emulator.endpoint).await;
    let feed = dms_feed::Feed::from_env(&def.env, &config, Arc::new(clock.clone()))?;

    let mut passes = Vec::new();
    for (pass, minutes, every) in [("first seen", 0, 1), ("none changed", 5, 0), ("5% changed", 10, 20)] {
        let as_of = t0 + Duration::minutes(minutes);
        let values: Vec<Value> = (0..snapshots)
            .map(|i| {
                let status = if every > 0 && i % every == 0 && minutes > 0 { "parts_arrived" } else { "in_progress" };
                ro(i, status, as_of)
            })
            .collect();
        let changed = match (pass, every) {
            ("first seen", _) => snapshots,
            (_, 0) => 0,
            (_, n) => snapshots.div_ceil(n),
        };
        let recorder = CallRecorder::start(&emulator.endpoint).await?;
        let started = std::time::Instant::now();
        for chunk in values.chunks(custops::feed::SNAPSHOTS_PER_MESSAGE) {
            let taken: Vec<(Snapshot, DateTime<Utc>)> =
                chunk.iter().map(|v| Snapshot::from_value(v).map(|s| (s, as_of))).collect::<Result<_, _>>()?;
            feed.take("northside-chevy", &taken).await?;
        }
        let seconds = started.elapsed().as_secs_f64();
        let requests = recorder.signed_requests().await?;
        let mut calls = BTreeMap::new();
        let (mut read_calls, mut read_units, mut write_units) = (0, 0, 0);
        for r in &requests {
            *calls.entry(r.call.to_string()).or_insert(0) += 1;
            match (r.call.service.as_str(), r.call.operation.as_str()) {
                ("dynamodb", "BatchGetItem") => {
                    read_calls += 1;
                    let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
                    read_units += body["RequestItems"]
                        .as_object()
                        .map(|t| t.values().map(|k| k["Keys"].as_array().map_or(0, Vec::len)).sum::<usize>())
                        .unwrap_or(0);
                }
                ("dynamodb", "GetItem") => {
                    read_calls += 1;
                    read_units += 1;
                }
                ("dynamodb", "PutItem" | "UpdateItem") => write_units += 1,
                _ => {}
            }
        }
        passes.push(FeedPass {
            pass: pass.to_owned(),
            snapshots,
            changed,
            calls,
            read_calls,
            read_units,
            write_units,
            seconds,
            snapshots_per_second: snapshots as f64 / seconds.max(1e-9),
        });
    }

    // Files: a nightly export that lists the same 1,000 open repair orders
    // again and again (a connector's every-five-minutes send, concatenated).
    let s3 = custops_cli::local::s3_client(&config)?;
    let bucket = def.env.get(dms_feed::DMS_FEED_BUCKET).cloned().ok_or("no feed bucket")?;
    let mut files = Vec::new();
    for (n, &rows) in file_rows.iter().enumerate() {
        use std::io::Write;
        let path = std::env::temp_dir().join(format!("custops-bench-feed-{}-{rows}.csv", std::process::id()));
        {
            let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
            writeln!(
                out,
                "kind,id,status,dms_id,first_name,last_name,phone,vin,year,make,model,advisor_id,advisor_name"
            )?;
            for r in 0..rows {
                let i = r % 1000;
                writeln!(
                    out,
                    "repair_order,R-F{i},in_progress,CF{i},Pat,Owner,+1512{:07},VIN{i},2020,Chevrolet,Malibu,adv-1,Dana Whitfield",
                    5_000_000 + i
                )?;
            }
        }
        let key = format!("northside-chevy/nightly-{n}.csv");
        let etag = s3.put_file(&bucket, &key, &path).await?;
        std::fs::remove_file(&path).ok();
        // S3's notification, as the queue would hand it to the function.
        let notification = json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": t0 + Duration::hours(12 + n as i64), "eventName": "ObjectCreated:Put",
            "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
                   "object": {"key": key, "size": 0, "eTag": etag}}}]});
        let message = custops::batch::Message {
            message_id: format!("bench-file-{n}"),
            body: notification.to_string(),
            receive_count: 1,
            event_type: None,
            sent_at: None,
        };
        reset_peak_rss();
        let started = std::time::Instant::now();
        feed.process(message).await?;
        let seconds = started.elapsed().as_secs_f64();
        let taken = stack.table().feed_file("northside-chevy", &key, &etag).await?;
        if taken.as_ref().map(|f| f.rows as usize) != Some(rows) {
            return Err(format!("the {rows}-row file was not taken whole: {taken:?}").into());
        }
        files.push(FeedFileRun {
            rows,
            seconds,
            rows_per_second: rows as f64 / seconds.max(1e-9),
            peak_rss: peak_rss().unwrap_or_default(),
        });
    }
    Ok((passes, files))
}

/// The tables of docs/benchmarks.md.
pub fn feed_tables(passes: &[FeedPass], files: &[FeedFileRun]) -> String {
    let mut out = String::from("### The DMS feed: per 1,000 snapshots, a hundred a delivery\n\n");
    out.push_str("| pass | snapshots | changed | read calls | read units | write units | other calls | snapshots/s (emulator) |\n");
    out.push_str("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |\n");
    for p in passes {
        let per = 1000.0 / p.snapshots as f64;
        let other: Vec<String> = p
            .calls
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "dynamodb:BatchGetItem" | "dynamodb:GetItem" | "dynamodb:PutItem" | "dynamodb:UpdateItem"
                )
            })
            .map(|(k, v)| format!("{k} {:.0}", *v as f64 * per))
            .collect();
        out.push_str(&format!(
            "| {} | {} | {} | {:.0} | {:.0} | {:.0} | {} | {:.0} |\n",
            p.pass,
            p.snapshots,
            p.changed,
            p.read_calls as f64 * per,
            p.read_units as f64 * per,
            p.write_units as f64 * per,
            if other.is_empty() { "none".to_owned() } else { other.join(", ") },
            p.snapshots_per_second
        ));
    }
    out.push_str(
        "\n| file rows | time | rows/s (emulator) | bench's peak RSS while taken |\n| ---: | ---: | ---: | ---: |\n",
    );
    for f in files {
        out.push_str(&format!(
            "| {} | {:.0} s | {:.0} | {:.1} MB |\n",
            f.rows,
            f.seconds,
            f.rows_per_second,
            f.peak_rss as f64 / 1e6
        ));
    }
    out
}

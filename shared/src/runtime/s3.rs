//! The S3 calls custops makes, each one SigV4-signed REST request (the
//! SDK's own signer, `aws-sigv4`; S3's documented example is its test) over
//! the workspace's HTTPS client ([`crate::https`]): the feed reads an object
//! as a stream (`GetObject` with `If-Match`), `custops feed put` and the
//! bench put a file as a stream (`PutObject`), and the local stack makes the
//! template's buckets and their notifications.
//!
//! The S3 SDK did the same with about 1.3 MB of every binary that linked it
//! (S3's endpoint rules and every checksum S3 may ask for: CRC32, CRC32C,
//! CRC64-NVME, SHA-1, MD5) and, through its event streams, more code in
//! every function's SDK crates. Payloads are `UNSIGNED-PAYLOAD` (named in
//! `x-amz-content-sha256`), as S3 allows over HTTPS.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use bytes::{Buf, Bytes};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::client::legacy::Client;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::https;

/// How long S3 may take to answer a request's headers, and each part of a body.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// What a key's path keeps unencoded: S3's unreserved characters and `/`.
const KEY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

/// The largest error document read (S3's are a few hundred bytes).
const MAX_ERROR: usize = 4096;

/// A file is sent this many bytes at a time.
const CHUNK: usize = 256 * 1024;

/// A request's body: nothing, bytes, or a file read as it goes.
pub type Body = BoxBody<Bytes, std::io::Error>;

/// S3 for one configuration (its credentials, region and endpoint).
pub struct S3 {
    client: Client<https::Connector, Body>,
    credentials: SharedCredentialsProvider,
    region: String,
    /// The emulator's URL locally (its buckets are paths); none on AWS.
    endpoint: Option<String>,
}

impl S3 {
    /// From `config`, trusting `trust` (a function: the AWS roots alone,
    /// as its SDK clients; the CLI: the system's store).
    pub fn new(config: &aws_config::SdkConfig, trust: https::Trust) -> Result<Self, String> {
        let tls =
            https::tls_config(trust).or_else(|_| https::tls_config(https::Trust::Aws)).map_err(|e| e.to_string())?;
        Ok(Self {
            client: https::client(https::connector(tls, Some(Duration::from_secs(3)))),
            credentials: config.credentials_provider().ok_or("no credentials")?,
            region: config.region().map(|r| r.to_string()).ok_or("no region")?,
            endpoint: config.endpoint_url().map(|e| e.trim_end_matches('/').to_owned()),
        })
    }

    /// The URL of `key` in `bucket` (an empty key: the bucket itself):
    /// virtual-hosted on AWS (path style for a bucket whose name has a dot,
    /// which S3's wildcard certificate does not cover), path style at an
    /// emulator.
    pub fn url(&self, bucket: &str, key: &str) -> String {
        let key = utf8_percent_encode(key, KEY).to_string();
        let object = if key.is_empty() { String::new() } else { format!("/{key}") };
        match &self.endpoint {
            Some(endpoint) => format!("{endpoint}/{bucket}{object}"),
            None if bucket.contains('.') => format!("https://s3.{}.amazonaws.com/{bucket}{object}", self.region),
            None => format!("https://{bucket}.s3.{}.amazonaws.com/{}", self.region, key),
        }
    }

    /// `GetObject` of `key` when its ETag is still `etag` (none: any): the
    /// body, or why not (S3's error code, never the object's bytes).
    pub async fn get(&self, bucket: &str, key: &str, etag: Option<&str>) -> Result<Incoming, String> {
        let mut request = http::Request::get(self.url(bucket, key));
        if let Some(etag) = etag {
            request = request.header("if-match", format!("\"{etag}\""));
        }
        let request = request.body(empty()).map_err(|e| e.to_string())?;
        Ok(self.send(request, "GetObject").await?.into_body())
    }

    /// `PutObject` of the file at `path` as `key`, read as it is sent (flat
    /// memory for a file of any size): its ETag.
    pub async fn put_file(&self, bucket: &str, key: &str, path: &Path) -> Result<String, String> {
        let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let length = file.metadata().map_err(|e| e.to_string())?.len();
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
        tokio::task::spawn_blocking(move || {
            let mut file = file;
            loop {
                let mut chunk = vec![0; CHUNK];
                let read = match file.read(&mut chunk) {
                    Ok(0) => return,
                    Ok(n) => Ok(Bytes::from({
                        chunk.truncate(n);
                        chunk
                    })),
                    Err(e) => Err(e),
                };
                let failed = read.is_err();
                if tx.blocking_send(read).is_err() || failed {
                    return;
                }
            }
        });
        let frames =
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c.map(Frame::data), rx)) });
        let request = http::Request::put(self.url(bucket, key))
            .header("content-length", length)
            .body(BodyExt::boxed(StreamBody::new(frames)))
            .map_err(|e| e.to_string())?;
        let answer = self.send(request, "PutObject").await?;
        let etag = answer.headers().get("etag").and_then(|e| e.to_str().ok()).unwrap_or_default();
        Ok(etag.trim_matches('"').to_owned())
    }

    /// `CreateBucket` (the local stack's buckets; in `us-east-1`, no body).
    pub async fn create_bucket(&self, bucket: &str) -> Result<(), String> {
        let request = http::Request::put(self.url(bucket, "")).body(empty()).map_err(|e| e.to_string())?;
        self.send(request, "CreateBucket").await.map(drop)
    }

    /// `PutBucketNotificationConfiguration`: `xml` is the
    /// `NotificationConfiguration` document.
    pub async fn put_bucket_notification(&self, bucket: &str, xml: String) -> Result<(), String> {
        let url = format!("{}?notification=", self.url(bucket, ""));
        let request = http::Request::put(url)
            .header("content-length", xml.len())
            .header("content-type", "application/xml")
            .body(BodyExt::boxed(Full::new(Bytes::from(xml)).map_err(|never| match never {})))
            .map_err(|e| e.to_string())?;
        self.send(request, "PutBucketNotificationConfiguration").await.map(drop)
    }

    /// Signs and sends `request`: its answer when S3 says yes, else why not.
    async fn send(&self, mut request: http::Request<Body>, what: &str) -> Result<http::Response<Incoming>, String> {
        let credentials = self.credentials.provide_credentials().await.map_err(|e| e.to_string())?;
        sign_s3(&mut request, credentials, &self.region, SystemTime::now(), SignableBody::UnsignedPayload)?;
        let answer = tokio::time::timeout(ANSWER_TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| format!("S3 did not answer {what} in {} s", ANSWER_TIMEOUT.as_secs()))?
            .map_err(|e| format!("S3 could not be reached: {e}"))?;
        let status = answer.status();
        if status.is_success() {
            return Ok(answer);
        }
        let body = http_body_util::Limited::new(answer.into_body(), MAX_ERROR).collect().await;
        let text = body.map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned()).unwrap_or_default();
        Err(format!("{what} answered {status} {}", error_code(&text).unwrap_or("")).trim_end().to_owned())
    }
}

/// An empty body.
fn empty() -> Body {
    BodyExt::boxed(Empty::<Bytes>::new().map_err(|never| match never {}))
}

/// SigV4 for S3 at `time`, the payload as `body` says: the path as sent (no
/// second encoding, no normalisation), the payload named in
/// `x-amz-content-sha256`.
fn sign_s3<B>(
    request: &mut http::Request<B>,
    credentials: aws_credential_types::Credentials,
    region: &str,
    time: SystemTime,
    body: SignableBody<'_>,
) -> Result<(), String> {
    let identity = credentials.into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let method = request.method().as_str().to_owned();
    let headers = request.headers().iter().filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)));
    let uri = request.uri().to_string();
    let signable = SignableRequest::new(&method, &uri, headers, body).map_err(|e| e.to_string())?;
    let (instructions, _) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

/// S3's error code (`<Code>PreconditionFailed</Code>`), if the document has one.
fn error_code(document: &str) -> Option<&str> {
    let start = document.find("<Code>")? + "<Code>".len();
    let end = start + document[start..].find("</Code>")?;
    Some(&document[start..end]).filter(|c| c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A body read synchronously (the CSV reader is), on a blocking thread.
pub struct BodyReader {
    body: Incoming,
    chunk: Bytes,
    handle: tokio::runtime::Handle,
}

impl BodyReader {
    pub fn new(body: Incoming, handle: tokio::runtime::Handle) -> Self {
        Self { body, chunk: Bytes::new(), handle }
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            let next = self.handle.block_on(tokio::time::timeout(ANSWER_TIMEOUT, self.body.frame()));
            match next {
                Err(_) => return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the object stopped coming")),
                Ok(None) => return Ok(0),
                Ok(Some(Err(e))) => return Err(std::io::Error::other(e)),
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.chunk = data;
                    }
                }
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk.advance(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn objects(endpoint: Option<&str>) -> S3 {
        let config = match endpoint {
            Some(e) => crate::aws::local(e).await,
            None => aws_config::SdkConfig::builder()
                .region(aws_config::Region::new("us-east-2"))
                .credentials_provider(SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
                    "AKIDEXAMPLE",
                    "secret",
                    None,
                    None,
                    "test",
                )))
                .build(),
        };
        S3::new(&config, https::Trust::Aws).unwrap()
    }

    #[tokio::test]
    async fn a_key_is_encoded_once_and_the_bucket_is_its_host_on_aws() {
        let aws = objects(None).await;
        assert_eq!(
            aws.url("custops-dmsfeedbucket-1", "northside-chevy/morning export+1.csv"),
            "https://custops-dmsfeedbucket-1.s3.us-east-2.amazonaws.com/northside-chevy/morning%20export%2B1.csv"
        );
        assert_eq!(aws.url("a.b", "s/f.csv"), "https://s3.us-east-2.amazonaws.com/a.b/s/f.csv");
        let local = objects(Some("http://127.0.0.1:5000/")).await;
        assert_eq!(local.url("b", "s/é.csv"), "http://127.0.0.1:5000/b/s/%C3%A9.csv");
    }

    #[tokio::test]
    async fn a_get_is_signed_for_s3_with_an_unsigned_payload() {
        let aws = objects(None).await;
        let mut request = http::Request::get(aws.url("bucket", "s/f.csv")).body(empty()).unwrap();
        let credentials = aws.credentials.provide_credentials().await.unwrap();
        sign_s3(&mut request, credentials, &aws.region, SystemTime::now(), SignableBody::UnsignedPayload).unwrap();
        let h = request.headers();
        assert_eq!(h["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
        let auth = h["authorization"].to_str().unwrap();
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), "{auth}");
        assert!(auth.contains("/us-east-2/s3/aws4_request"), "{auth}");
    }

    /// S3's own example of a signed GET ("Example: GET Object", Signature
    /// Calculations for the Authorization Header, Amazon S3 API Reference):
    /// `GET /test.txt` of `examplebucket` with `Range: bytes=0-9` on
    /// 2013-05-24, its documented signature.
    #[test]
    fn the_signature_of_s3s_documented_get_object_example() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let mut request = http::Request::get("https://examplebucket.s3.amazonaws.com/test.txt")
            .header("range", "bytes=0-9")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let credentials = aws_credential_types::Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "example",
        );
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600);
        sign_s3(&mut request, credentials, "us-east-1", time, SignableBody::Precomputed(empty.into())).unwrap();
        assert_eq!(
            request.headers()["authorization"],
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn an_error_code_is_read_and_nothing_else_of_the_document() {
        let doc = "<?xml version=\"1.0\"?><Error><Code>PreconditionFailed</Code><Message>x</Message></Error>";
        assert_eq!(error_code(doc), Some("PreconditionFailed"));
        assert_eq!(error_code("<Code>call 555 0142 now</Code>"), None);
        assert_eq!(error_code("nothing"), None);
    }
}

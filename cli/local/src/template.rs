//! `infra/template.yaml`, read as data: the local stack creates its resources
//! and wires its functions from this file, so infra and code cannot drift.
//!
//! Intrinsics understood: `Ref` (parameters take their defaults), `Fn::GetAtt
//! X.Arn`, `Fn::Sub` (pseudo parameters, `${Logical}`, `${Logical.Arn}`), in
//! short or long form. Resources of other types (KMS keys, alarms, log groups,
//! policies) have no local counterpart and are skipped.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};
use serde_norway::Value as Yaml;

/// The template the CLI was built with.
pub const TEMPLATE: &str = include_str!("../../../infra/template.yaml");

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template is not valid YAML: {0}")]
    Yaml(String),
    #[error("template: {0}")]
    Invalid(String),
}

/// Where the stack lives: what pseudo parameters and physical ids resolve to.
#[derive(Debug, Clone)]
pub struct Placement {
    pub stack_name: String,
    pub region: String,
    pub account: String,
    /// Queue URLs are `{queue_url_base}/{account}/{name}`.
    pub queue_url_base: String,
    /// What a `Ref` to a resource whose id the service makes up (a Cognito
    /// user pool and its client) resolves to, by logical id, once it exists.
    pub physical: HashMap<String, String>,
    /// Parameter values instead of the template's defaults (as `sam deploy
    /// --parameter-overrides` gives them).
    pub parameters: HashMap<String, String>,
}

impl Placement {
    pub fn local(endpoint: &str) -> Self {
        Self {
            stack_name: "custops".into(),
            region: custops::aws::LOCAL_REGION.into(),
            account: custops::aws::LOCAL_ACCOUNT.into(),
            queue_url_base: endpoint.trim_end_matches('/').to_owned(),
            physical: HashMap::new(),
            parameters: HashMap::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub logical_id: String,
    pub kind: String,
    pub properties: Value,
    pub metadata: Value,
}

/// The parsed template with every intrinsic resolved for one placement.
#[derive(Debug, Clone)]
pub struct Template {
    pub resources: BTreeMap<String, Resource>,
    pub globals_env: BTreeMap<String, String>,
    /// Each parameter's declaration (`Type`, `Default`, `AllowedValues`, ...).
    pub parameters: BTreeMap<String, Value>,
    /// The buckets' names as the stack names them here (CloudFormation
    /// names a bucket the template leaves unnamed).
    buckets: BTreeMap<String, String>,
}

/// Where a function's code is, relative to `infra/`: the zip `cargo
/// artifacts` builds for `{binary}`.
pub const CODE_URI: (&str, &str) = ("../target/lambda/", "/bootstrap.zip");

/// The binary a `CodeUri` of the [`CODE_URI`] form names.
pub fn binary_of(code_uri: &str) -> Option<&str> {
    let name = code_uri.strip_prefix(CODE_URI.0)?.strip_suffix(CODE_URI.1)?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

/// An SQS-fed function as the template declares it.
#[derive(Debug, Clone)]
pub struct FunctionDef {
    pub logical_id: String,
    /// The crate / binary name, from `CodeUri` ([`CODE_URI`]).
    pub binary: String,
    /// Globals plus the function's own variables.
    pub env: HashMap<String, String>,
    /// The SQS event source: queue logical id and batch size.
    pub queue: Option<(String, i32)>,
    /// Whether it runs on a schedule (EventBridge).
    pub scheduled: bool,
    /// Behind the HTTP API (an `HttpApi` event).
    pub http: bool,
    /// The HTTP API routes' paths (`/hooks/{store_id}/events`, `/app/{proxy+}`).
    pub http_paths: Vec<String>,
    /// Fed by a CloudWatch Logs subscription filter (delivery receipts).
    pub logs: bool,
}

struct Resolver<'a> {
    placement: &'a Placement,
    /// logical id -> (type, physical name)
    names: HashMap<String, (String, String)>,
    params: HashMap<String, String>,
}

impl Resolver<'_> {
    fn reference(&self, id: &str) -> Result<String, TemplateError> {
        let p = self.placement;
        match id {
            "AWS::StackName" => return Ok(p.stack_name.clone()),
            "AWS::Region" => return Ok(p.region.clone()),
            "AWS::AccountId" => return Ok(p.account.clone()),
            "AWS::Partition" => return Ok("aws".into()),
            "AWS::URLSuffix" => return Ok("amazonaws.com".into()),
            _ => {}
        }
        if let Some(v) = self.params.get(id) {
            return Ok(v.clone());
        }
        if let Some(v) = p.physical.get(id) {
            return Ok(v.clone());
        }
        let (kind, name) = self.names.get(id).ok_or_else(|| TemplateError::Invalid(format!("Ref to unknown {id}")))?;
        Ok(match kind.as_str() {
            "AWS::SQS::Queue" => format!("{}/{}/{}", p.queue_url_base, p.account, name),
            "AWS::SNS::Topic" => format!("arn:aws:sns:{}:{}:{}", p.region, p.account, name),
            _ => name.clone(),
        })
    }

    fn arn(&self, id: &str) -> Result<String, TemplateError> {
        let p = self.placement;
        let (kind, name) =
            self.names.get(id).ok_or_else(|| TemplateError::Invalid(format!("GetAtt on unknown {id}")))?;
        Ok(match kind.as_str() {
            "AWS::SQS::Queue" => format!("arn:aws:sqs:{}:{}:{}", p.region, p.account, name),
            "AWS::SNS::Topic" => format!("arn:aws:sns:{}:{}:{}", p.region, p.account, name),
            "AWS::DynamoDB::Table" => format!("arn:aws:dynamodb:{}:{}:table/{}", p.region, p.account, name),
            "AWS::S3::Bucket" => format!("arn:aws:s3:::{name}"),
            _ => format!("arn:aws:local:{}:{}:{}", p.region, p.account, name),
        })
    }

    fn get_att(&self, target: &str) -> Result<String, TemplateError> {
        match target.split_once('.') {
            Some((id, "Arn")) => self.arn(id),
            Some((id, attr)) => Err(TemplateError::Invalid(format!("GetAtt {id}.{attr} is not supported locally"))),
            None => Err(TemplateError::Invalid(format!("GetAtt {target} needs an attribute"))),
        }
    }

    fn sub(&self, text: &str) -> Result<String, TemplateError> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end =
                rest[start..].find('}').ok_or_else(|| TemplateError::Invalid(format!("unclosed ${{ in {text}")))?;
            let var = &rest[start + 2..start + end];
            out.push_str(&match var.strip_suffix(".Arn") {
                Some(id) => self.arn(id)?,
                None => self.reference(var)?,
            });
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// YAML (with `!Tags`) -> JSON with intrinsics resolved. Unsupported
    /// intrinsics (`!If`, `!Not`, ...) become null: only alarms use them.
    fn resolve(&self, v: &Yaml) -> Result<Value, TemplateError> {
        Ok(match v {
            Yaml::Null => Value::Null,
            Yaml::Bool(b) => Value::Bool(*b),
            Yaml::Number(n) => serde_json::to_value(n).map_err(|e| TemplateError::Invalid(e.to_string()))?,
            Yaml::String(s) => Value::String(s.clone()),
            Yaml::Sequence(items) => Value::Array(items.iter().map(|i| self.resolve(i)).collect::<Result<_, _>>()?),
            Yaml::Tagged(tagged) => {
                let tag = tagged.tag.to_string();
                self.intrinsic(tag.trim_start_matches('!'), &tagged.value)?
            }
            Yaml::Mapping(map) => {
                if map.len() == 1 {
                    if let Some((Yaml::String(k), inner)) = map.iter().next() {
                        if k == "Ref" || k.starts_with("Fn::") {
                            return self.intrinsic(k.trim_start_matches("Fn::"), inner);
                        }
                    }
                }
                let mut out = Map::new();
                for (k, val) in map {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        other => serde_norway::to_string(other).unwrap_or_default().trim().to_owned(),
                    };
                    out.insert(key, self.resolve(val)?);
                }
                Value::Object(out)
            }
        })
    }

    fn intrinsic(&self, name: &str, arg: &Yaml) -> Result<Value, TemplateError> {
        let text = |v: &Yaml| {
            v.as_str().map(str::to_owned).ok_or_else(|| TemplateError::Invalid(format!("{name} needs a string")))
        };
        Ok(match name {
            "Ref" => Value::String(self.reference(&text(arg)?)?),
            "GetAtt" => {
                let target = match arg {
                    Yaml::Sequence(parts) => parts.iter().filter_map(|p| p.as_str()).collect::<Vec<_>>().join("."),
                    other => text(other)?,
                };
                Value::String(self.get_att(&target)?)
            }
            "Sub" => match arg {
                Yaml::String(s) => Value::String(self.sub(s)?),
                _ => return Err(TemplateError::Invalid("only the one-argument form of Sub is supported".into())),
            },
            _ => Value::Null,
        })
    }
}

impl Template {
    /// Parses `yaml` and resolves it for `placement`.
    pub fn parse(yaml: &str, placement: &Placement) -> Result<Self, TemplateError> {
        let doc: Yaml = serde_norway::from_str(yaml).map_err(|e| TemplateError::Yaml(e.to_string()))?;
        let params = doc
            .get("Parameters")
            .and_then(Yaml::as_mapping)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| {
                        let default = v.get("Default")?;
                        let value = match default {
                            Yaml::String(s) => s.clone(),
                            other => serde_norway::to_string(other).ok()?.trim().to_owned(),
                        };
                        Some((k.as_str()?.to_owned(), value))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut params: HashMap<String, String> = params;
        params.extend(placement.parameters.clone());
        let raw = doc
            .get("Resources")
            .and_then(Yaml::as_mapping)
            .ok_or_else(|| TemplateError::Invalid("no Resources".into()))?;
        // Physical names first (they may not reference each other).
        let mut resolver = Resolver { placement, names: HashMap::new(), params };
        let mut names = HashMap::new();
        for (k, v) in raw {
            let id = k.as_str().unwrap_or_default().to_owned();
            let kind = v.get("Type").and_then(Yaml::as_str).unwrap_or_default().to_owned();
            let name_prop = match kind.as_str() {
                "AWS::SQS::Queue" => "QueueName",
                "AWS::SNS::Topic" => "TopicName",
                "AWS::DynamoDB::Table" => "TableName",
                "AWS::Cognito::UserPool" => "UserPoolName",
                "AWS::Cognito::UserPoolClient" => "ClientName",
                "AWS::Cognito::UserPoolGroup" => "GroupName",
                "AWS::S3::Bucket" => "BucketName",
                _ => "",
            };
            let name = v
                .get("Properties")
                .and_then(|p| p.get(name_prop))
                .map(|n| resolver.resolve(n))
                .transpose()?
                .and_then(|n| n.as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("{}-{id}", placement.stack_name));
            // A bucket's name is lower case (CloudFormation's are).
            let name = if kind == "AWS::S3::Bucket" { name.to_ascii_lowercase() } else { name };
            names.insert(id, (kind, name));
        }
        resolver.names = names;
        let mut resources = BTreeMap::new();
        for (k, v) in raw {
            let id = k.as_str().unwrap_or_default().to_owned();
            let kind = v.get("Type").and_then(Yaml::as_str).unwrap_or_default().to_owned();
            let properties = v.get("Properties").map(|p| resolver.resolve(p)).transpose()?.unwrap_or(Value::Null);
            let metadata = v.get("Metadata").map(|p| resolver.resolve(p)).transpose()?.unwrap_or(Value::Null);
            resources.insert(id.clone(), Resource { logical_id: id, kind, properties, metadata });
        }
        let globals_env = doc
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(|f| f.get("Environment"))
            .and_then(|e| e.get("Variables"))
            .map(|v| resolver.resolve(v))
            .transpose()?
            .and_then(|v| serde_json::from_value::<BTreeMap<String, Value>>(v).ok())
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, value_string(&v)))
            .collect();
        let parameters = doc
            .get("Parameters")
            .map(|p| resolver.resolve(p))
            .transpose()?
            .and_then(|v| serde_json::from_value::<BTreeMap<String, Value>>(v).ok())
            .unwrap_or_default();
        let buckets = resolver
            .names
            .iter()
            .filter(|(_, (kind, _))| kind == "AWS::S3::Bucket")
            .map(|(id, (_, name))| (id.clone(), name.clone()))
            .collect();
        Ok(Self { resources, globals_env, parameters, buckets })
    }

    pub fn of_type<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources.values().filter(move |r| r.kind == kind)
    }

    /// The physical name of a resource (`TableName`, `QueueName`,
    /// `TopicName`; a bucket's, given or made).
    pub fn name_of(&self, logical_id: &str) -> Option<String> {
        if let Some(bucket) = self.buckets.get(logical_id) {
            return Some(bucket.clone());
        }
        let r = self.resources.get(logical_id)?;
        ["TableName", "QueueName", "TopicName"]
            .iter()
            .find_map(|p| r.properties.get(*p).and_then(Value::as_str))
            .map(str::to_owned)
    }

    /// Every Lambda function with its environment and triggers.
    pub fn functions(&self) -> Vec<FunctionDef> {
        self.of_type("AWS::Serverless::Function")
            .map(|r| {
                let mut env: HashMap<String, String> = self.globals_env.clone().into_iter().collect();
                if let Some(vars) = r.properties.pointer("/Environment/Variables").and_then(Value::as_object) {
                    env.extend(vars.iter().map(|(k, v)| (k.clone(), value_string(v))));
                }
                let events = r.properties.get("Events").and_then(Value::as_object).cloned().unwrap_or_default();
                let mut queue = None;
                let mut scheduled = false;
                let mut http = false;
                let mut http_paths = Vec::new();
                for event in events.values() {
                    match event.get("Type").and_then(Value::as_str) {
                        Some("SQS") => {
                            let arn = event.pointer("/Properties/Queue").and_then(Value::as_str).unwrap_or_default();
                            let batch =
                                event.pointer("/Properties/BatchSize").and_then(Value::as_i64).unwrap_or(10) as i32;
                            let logical = self
                                .of_type("AWS::SQS::Queue")
                                .find(|q| self.name_of(&q.logical_id).is_some_and(|n| arn.ends_with(&format!(":{n}"))))
                                .map(|q| q.logical_id.clone());
                            if let Some(l) = logical {
                                queue = Some((l, batch));
                            }
                        }
                        Some("Schedule") | Some("ScheduleV2") => scheduled = true,
                        Some("HttpApi") => {
                            http = true;
                            http_paths
                                .extend(event.pointer("/Properties/Path").and_then(Value::as_str).map(str::to_owned));
                        }
                        _ => {}
                    }
                }
                FunctionDef {
                    logical_id: r.logical_id.clone(),
                    binary: r
                        .properties
                        .get("CodeUri")
                        .and_then(Value::as_str)
                        .and_then(binary_of)
                        .unwrap_or_default()
                        .to_owned(),
                    env,
                    queue,
                    scheduled,
                    http,
                    http_paths,
                    logs: self.of_type("AWS::Logs::SubscriptionFilter").any(|f| {
                        f.properties
                            .get("DestinationArn")
                            .and_then(Value::as_str)
                            .is_some_and(|arn| arn.ends_with(&format!("-{}", r.logical_id)))
                    }),
                }
            })
            .collect()
    }

    /// The function whose HTTP API routes match `path` (the route with the
    /// longest literal prefix, as API Gateway picks the most specific).
    pub fn http_route<'a>(functions: &'a [FunctionDef], path: &str) -> Option<&'a FunctionDef> {
        functions
            .iter()
            .flat_map(|f| f.http_paths.iter().map(move |p| (f, p)))
            .filter_map(|(f, route)| route_matches(route, path).map(|literal| (literal, f)))
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, f)| f)
    }

    /// The DLQ logical id of a queue, from its redrive policy.
    pub fn dlq_of(&self, queue_logical_id: &str) -> Option<String> {
        let arn = self
            .resources
            .get(queue_logical_id)?
            .properties
            .pointer("/RedrivePolicy/deadLetterTargetArn")?
            .as_str()?
            .to_owned();
        self.of_type("AWS::SQS::Queue")
            .find(|q| self.name_of(&q.logical_id).is_some_and(|n| arn.ends_with(&format!(":{n}"))))
            .map(|q| q.logical_id.clone())
    }
}

/// Whether API Gateway's route `route` (`/hooks/{store_id}/events`,
/// `/app/{proxy+}`) takes `path`; how many literal segments it matched.
pub fn route_matches(route: &str, path: &str) -> Option<usize> {
    let want: Vec<&str> = route.trim_matches('/').split('/').collect();
    let got: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut literal = 0;
    for (i, w) in want.iter().enumerate() {
        if w.starts_with('{') && w.ends_with("+}") {
            return (got.len() > i).then_some(literal);
        }
        let g = got.get(i)?;
        // A parameter takes any segment, an empty one too: the function
        // answers for it (an empty store id is the front door's 403).
        if w.starts_with('{') && w.ends_with('}') {
            continue;
        } else if w != g {
            return None;
        } else {
            literal += 1;
        }
    }
    (want.len() == got.len()).then_some(literal)
}

fn value_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

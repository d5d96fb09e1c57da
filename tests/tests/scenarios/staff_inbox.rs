//! The staff inbox through the local stack's `http` URL, as people use it:
//! staff of two stores sign in against the emulator's Cognito, see their
//! tasks, open a customer's record, answer and close; every refusal
//! (another store's customer, a form without its token, an opted-out
//! number, a forged session) is tested, and `staff-alerts` hears of every
//! new and every escalated task.

use custops::Phone;
use custops_cli::commands;
use custops_tests::{at, Harness};
use serde_json::{json, Value};

/// Tuesday 10:00 in Chicago: Northside is open.
const NOW: &str = "2026-11-24T16:00:00Z";
const PASSWORD: &str = "Correct-horse-42";
const MARIA: &str = "+15125550142";

fn lakeside() -> Value {
    serde_json::from_str(include_str!("../../../events/stores/lakeside-ford.json")).unwrap()
}

/// A customer's text to Northside's number.
fn text_from(from: &str, id: &str, body: &str) -> Value {
    json!({"originationNumber": from, "destinationNumber": "+15125550100", "messageKeyword": "KEYWORD_123456789012",
           "messageBody": body, "inboundMessageId": id, "previousPublishedMessageId": ""})
}

/// A browser without JavaScript: it keeps the session cookie and follows nothing by itself.
struct Browser {
    base: String,
    http: reqwest::Client,
    cookie: Option<String>,
}

impl Browser {
    fn new(base: &str) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { base: base.to_owned(), http, cookie: None }
    }

    async fn sign_in(&mut self, email: &str, password: &str) -> reqwest::Response {
        let body = form(&[("email", email), ("password", password)]);
        let answer = self.post_raw("/app/signin", body).await;
        if let Some(c) = answer.headers().get("set-cookie") {
            let c = c.to_str().unwrap().to_owned();
            self.cookie = Some(c.split(';').next().unwrap().to_owned());
            for part in ["HttpOnly", "SameSite=Lax", "Path=/app"] {
                assert!(c.contains(part), "the session cookie is {part}: {c}");
            }
            assert!(!c.contains("Secure"), "plain HTTP locally; Secure behind HTTPS (unit-tested)");
        }
        answer
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let answer = req.send().await.unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    }

    async fn post_raw(&self, path: &str, body: String) -> reqwest::Response {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        req.send().await.unwrap()
    }

    /// Posts a form and returns its status and where it sends the browser.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        let answer = self.post_raw(path, form(fields)).await;
        let status = answer.status().as_u16();
        let location = answer.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
        (status, location, answer.text().await.unwrap())
    }
}

fn form(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish()
}

/// The value of the first hidden field `name` on a page.
fn field(page: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = page.find(&marker).unwrap_or_else(|| panic!("no {name} field")) + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// A queue subscribed to `staff-alerts`, as an email or SMS subscription would be.
async fn alert_queue(h: &Harness) -> String {
    let url =
        h.stack.clients.sqs.create_queue().queue_name("alerts-under-test").send().await.unwrap().queue_url.unwrap();
    let arn = "arn:aws:sqs:us-east-1:123456789012:alerts-under-test";
    h.stack
        .clients
        .sns
        .subscribe()
        .topic_arn(h.stack.topic_arn("staff-alerts"))
        .protocol("sqs")
        .endpoint(arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap();
    url
}

/// Every alert waiting in the queue, with its attributes.
async fn alerts(h: &Harness, url: &str) -> Vec<(Value, String, String, String)> {
    let mut out = Vec::new();
    loop {
        let got = h
            .stack
            .clients
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        let messages = got.messages.unwrap_or_default();
        if messages.is_empty() {
            return out;
        }
        for m in messages {
            let attrs = m.message_attributes.clone().unwrap_or_default();
            let attr = |n: &str| attrs.get(n).and_then(|a| a.string_value.clone()).unwrap_or_default();
            out.push((serde_json::from_str(m.body().unwrap()).unwrap(), attr("kind"), attr("store_id"), attr("owner")));
            h.stack
                .clients
                .sqs
                .delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle.unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_of_two_stores_sign_in_work_their_tasks_and_answer_only_their_customers() {
    let h = Harness::start(NOW).await;
    h.put_store(lakeside()).await;
    let queue = alert_queue(&h).await;
    let ana_user =
        custops_cli::staff::add(&h.target, "northside-chevy", "Ana@Northside.example", "bdc", false, Some(PASSWORD))
            .await
            .unwrap();
    assert!(ana_user.created && ana_user.email == "ana@northside.example");
    // Who did what is recorded by the person's `sub`, with the email beside it.
    let ana_actor = format!("ana@northside.example ({})", ana_user.sub);
    custops_cli::staff::add(&h.target, "northside-chevy", "gm@northside.example", "bdc-service", true, Some(PASSWORD))
        .await
        .unwrap();
    custops_cli::staff::add(&h.target, "lakeside-ford", "lee@lakeside.example", "bdc", true, Some(PASSWORD))
        .await
        .unwrap();
    // One person, two stores: the second `staff add` adds the store.
    let both = custops_cli::staff::add(&h.target, "lakeside-ford", "gm@northside.example", "bdc", true, Some(PASSWORD))
        .await
        .unwrap();
    assert_eq!(
        (both.created, both.stores.clone()),
        (false, vec!["northside-chevy".to_owned(), "lakeside-ford".to_owned()])
    );
    assert!(custops_cli::staff::add(&h.target, "nowhere", "x@y.example", "bdc", false, Some(PASSWORD)).await.is_err());

    // Maria texts, with markup in it; a caller's missed call makes a callback.
    h.publish(&text_from(MARIA, "m-1", "<script>alert(1)</script> is my Tahoe ready?")).await;
    h.publish(&custops_tests::call_missed("carrier-1", "call-1", "+15125550177", NOW)).await;
    h.settle().await;
    let created = alerts(&h, &queue).await;
    let kinds: Vec<(&str, &str, &str)> =
        created.iter().map(|(_, k, s, o)| (k.as_str(), s.as_str(), o.as_str())).collect();
    assert!(kinds.contains(&("task.created", "northside-chevy", "bdc")), "{kinds:?}");
    assert!(kinds.contains(&("task.created", "northside-chevy", "bdc-service")), "{kinds:?}");
    assert_eq!(created.len(), 2, "one alert per new task: {created:?}");
    assert!(created
        .iter()
        .all(|(body, ..)| !body.to_string().contains("5125550142\"") && body["phone_last4"].is_string()));

    let http = h.stack.serve_http(0).await.unwrap();
    // Every AWS request the inbox makes from here on, signed with its name.
    let recorder = custops_cli::emulator::CallRecorder::start(&h.emulator.endpoint).await.unwrap();
    let mut anon = Browser::new(&http.url);
    let (status, _) = anon.get("/app/tasks").await;
    assert_eq!(status, 303, "no session: to the sign-in");
    assert_eq!(anon.sign_in("ana@northside.example", "wrong-password").await.status(), 401);
    assert_eq!(anon.sign_in("nobody@northside.example", PASSWORD).await.status(), 401);
    let (status, page) = anon.get("/app/signin").await;
    assert!(status == 200 && page.contains(r#"name="password""#));

    // Ana (bdc at Northside) sees Maria's text as her task, and not the service callback.
    let mut ana = Browser::new(&http.url);
    assert_eq!(ana.sign_in("Ana@Northside.example", PASSWORD).await.status(), 303, "an email in any case");
    let (status, tasks) = ana.get("/app/tasks").await;
    assert_eq!(status, 200);
    assert!(tasks.contains("reply-m-1") && tasks.contains(MARIA), "{tasks}");
    assert!(!tasks.contains("callback-call-1"), "another team's task");
    assert!(tasks.contains("Tue 24 Nov 10:15 AM CST"), "due in the store's time: {tasks}");
    let (_, all) = ana.get("/app/tasks?view=all").await;
    assert!(!all.contains("callback-call-1"), "view=all is for managers");

    // Her customer's record: the text shown as text.
    let customer = format!("/app/customers/{MARIA}?store=northside-chevy");
    let (status, record) = ana.get(&customer).await;
    assert_eq!(status, 200);
    assert!(!record.contains("<script>alert(1)</script>"));
    assert!(record.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "escaped: {record}");
    let csrf = field(&record, "csrf");

    // Lee works at Lakeside only: Northside's customer does not exist for him.
    let mut lee = Browser::new(&http.url);
    lee.sign_in("lee@lakeside.example", PASSWORD).await;
    assert_eq!(lee.get(&customer).await.0, 404);
    assert_eq!(lee.get(&format!("/app/customers/{MARIA}")).await.0, 404);
    let (_, lee_tasks) = lee.get("/app/tasks?view=all").await;
    assert!(!lee_tasks.contains("reply-m-1") && !lee_tasks.contains(MARIA));
    let lee_csrf = field(&lee.get("/app/tasks").await.1, "csrf");
    let reply = format!("/app/customers/{MARIA}/reply");
    let (status, ..) = lee.post(&reply, &[("csrf", &lee_csrf), ("store", "northside-chevy"), ("body", "hello")]).await;
    assert_eq!(status, 404, "another store's customer, whatever the form says");

    // A form without its token, or with another session's, is refused; nothing is sent.
    let (status, ..) = ana.post(&reply, &[("store", "northside-chevy"), ("body", "no token")]).await;
    assert_eq!(status, 403);
    let (status, ..) = ana.post(&reply, &[("csrf", &lee_csrf), ("store", "northside-chevy"), ("body", "x")]).await;
    assert_eq!(status, 403);
    assert!(h.sms().await.iter().all(|s| s.phone_number != MARIA), "nothing sent to Maria yet");

    // Ana answers: one reply text from the store, recorded with her name, the reply task answered.
    let form_id = field(&record, "form_id");
    let answer =
        [("csrf", csrf.as_str()), ("store", "northside-chevy"), ("form_id", &form_id), ("body", "Yes, ready at 3.")];
    let (status, location, _) = ana.post(&reply, &answer).await;
    assert_eq!((status, location.as_str()), (303, format!("{customer}&notice=sent").as_str()));
    // The same form twice (a double tap) sends once.
    assert_eq!(ana.post(&reply, &answer).await.0, 303);
    let to_maria: Vec<_> = h.sms().await.into_iter().filter(|s| s.phone_number == MARIA).collect();
    assert_eq!(to_maria.len(), 1, "{to_maria:?}");
    assert_eq!(to_maria[0].message, "Northside Chevrolet: Yes, ready at 3.");
    let texts = commands::texts(&h.target, Some("northside-chevy")).await.unwrap();
    let sent = texts.iter().find(|t| t.trigger == staff_inbox::TRIGGER).unwrap();
    assert_eq!((sent.class, sent.sent_by.as_deref()), (custops::text::MessageClass::Reply, Some(ana_actor.as_str())));
    let open = commands::tasks(&h.target, Some("northside-chevy"), None).await.unwrap();
    assert!(open.iter().all(|t| t.task_id != "reply-m-1"), "the answer closed the reply task");
    let (_, record) = ana.get(&customer).await;
    assert!(record.contains("Yes, ready at 3.") && record.contains("ana@northside.example"));

    // The manager sees the whole store, closes the callback and assigns.
    let mut gm = Browser::new(&http.url);
    gm.sign_in("gm@northside.example", PASSWORD).await;
    let (_, all) = gm.get("/app/tasks?view=all").await;
    assert!(all.contains("callback-call-1") && !all.contains("reply-m-1"), "the whole store's open tasks: {all}");
    let gm_csrf = field(&all, "csrf");
    let caller = "+15125550177";
    let (status, ..) = ana
        .post(
            "/app/tasks/callback-call-1/assign",
            &[("csrf", &csrf), ("store", "northside-chevy"), ("phone", caller), ("owner", "bdc")],
        )
        .await;
    assert_eq!(status, 403, "only managers assign");
    let (status, ..) = gm
        .post(
            "/app/tasks/callback-call-1/assign",
            &[("csrf", &gm_csrf), ("store", "northside-chevy"), ("phone", caller), ("owner", "bdc")],
        )
        .await;
    assert_eq!(status, 303);
    let (_, tasks) = ana.get("/app/tasks").await;
    assert!(tasks.contains("callback-call-1"), "assigned to Ana's team: {tasks}");
    let (status, location, _) = ana
        .post(
            "/app/tasks/callback-call-1/done",
            &[
                ("csrf", &csrf),
                ("store", "northside-chevy"),
                ("phone", caller),
                ("outcome", "booked"),
                ("back", "tasks"),
            ],
        )
        .await;
    assert_eq!((status, location.as_str()), (303, "/app/tasks?notice=done"));
    assert!(commands::tasks(&h.target, Some("northside-chevy"), None).await.unwrap().is_empty());
    let timeline =
        h.table().timeline(&custops::CustomerId::new("northside-chevy", Phone::parse(caller).unwrap())).await.unwrap();
    let done = timeline.state.tasks.iter().find(|t| t.task_id == "callback-call-1").unwrap();
    assert_eq!((done.owner.as_str(), done.done_by.as_deref()), ("bdc", Some(ana_actor.as_str())));

    // An opted-out number gets nothing, and the page says why.
    h.opt_out(&Phone::parse(MARIA).unwrap(), NOW).await;
    let (status, _, page) = ana
        .post(&reply, &[("csrf", &csrf), ("store", "northside-chevy"), ("form_id", "f-2"), ("body", "One more thing")])
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("opted out"), "{page}");
    assert_eq!(h.sms().await.iter().filter(|s| s.phone_number == MARIA).count(), 1);

    // A session is a random id only the server knows: a changed id is none,
    // and so is the pool's own ID token for Ana (what the cookie used to hold).
    let mut forged = Browser::new(&http.url);
    let cookie = ana.cookie.clone().unwrap();
    let flipped = if cookie.ends_with('A') {
        format!("{}B", &cookie[..cookie.len() - 1])
    } else {
        format!("{}A", &cookie[..cookie.len() - 1])
    };
    forged.cookie = Some(flipped);
    assert_eq!(forged.get("/app/tasks").await.0, 303);
    let pool = custops_cli::local::made_up_ids(
        &custops_cli::template::Template::parse(
            custops_cli::template::TEMPLATE,
            &custops_cli::template::Placement::local(&h.emulator.endpoint),
        )
        .unwrap(),
        &custops::aws::local(&h.emulator.endpoint).await,
    )
    .await
    .unwrap();
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&custops::aws::local(&h.emulator.endpoint).await);
    let id_token = cognito
        .initiate_auth()
        .client_id(&pool["StaffUserPoolClient"])
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "ana@northside.example")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap()
        .authentication_result
        .unwrap()
        .id_token
        .unwrap();
    let mut stranger = Browser::new(&http.url);
    stranger.cookie = Some(format!("{}={id_token}", staff_inbox::session::COOKIE));
    assert_eq!(stranger.get("/app/tasks").await.0, 303, "a token is not a session");
    // The ID token a sign-in gets is checked once, at sign-in: signed by the
    // pool, for the inbox's own app client, unexpired. Another app client's
    // token of the same pool (another audience) is refused, as is this one
    // two hours on.
    let verifier = staff_inbox::jwks::Verifier::new(
        "us-east-1",
        &pool["StaffUserPool"],
        &pool["StaffUserPoolClient"],
        Some(&h.emulator.endpoint),
    );
    let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let user = verifier.user_at(&id_token, unix).await.expect("the pool's token for the inbox");
    assert_eq!((user.email.as_str(), user.sub.as_str()), ("ana@northside.example", ana_user.sub.as_str()));
    assert!(verifier.user_at(&id_token, unix + 2 * 3600).await.is_err(), "expired two hours on");
    let other = cognito
        .create_user_pool_client()
        .user_pool_id(&pool["StaffUserPool"])
        .client_name("another-app")
        .explicit_auth_flows(aws_sdk_cognitoidentityprovider::types::ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    let foreign = cognito
        .initiate_auth()
        .client_id(&other)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "ana@northside.example")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap()
        .authentication_result
        .unwrap()
        .id_token
        .unwrap();
    assert!(verifier.user_at(&foreign, unix).await.is_err(), "another app client's token");
    // The app client may write none of email, store or teams: no one
    // becomes another person or grants themselves a store. (moto does not
    // hold an app client to its WriteAttributes; Cognito does: the template
    // is what is checked.)
    let template = custops_cli::template::Template::parse(
        custops_cli::template::TEMPLATE,
        &custops_cli::template::Placement::local("http://127.0.0.1:1"),
    )
    .unwrap();
    let writes = &template.resources["StaffUserPoolClient"].properties["WriteAttributes"];
    let writes: Vec<&str> =
        writes.as_array().expect("listed: left out, it is every attribute").iter().filter_map(|v| v.as_str()).collect();
    for never in ["email", "custom:store_id", "custom:teams"] {
        assert!(!writes.contains(&never), "the app client may write {never}: {writes:?}");
    }

    // Signing out ends the session on the server: a copy of the cookie taken
    // before is worth nothing.
    let copied = ana.cookie.clone();
    let (status, location, _) = ana.post("/app/signout", &[("csrf", &csrf)]).await;
    assert_eq!((status, location.as_str()), (303, "/app/signin"));
    let mut thief = Browser::new(&http.url);
    thief.cookie = copied;
    assert_eq!(thief.get("/app/tasks").await.0, 303, "a copied cookie after sign-out");

    // Least privilege, as AWS enforces it: the inbox's policy grants exactly
    // the actions its requests needed (sign-in is not IAM-authorised).
    let template = custops_cli::template::Template::parse(
        custops_cli::template::TEMPLATE,
        &custops_cli::template::Placement::local("http://127.0.0.1:1"),
    )
    .unwrap();
    let granted = custops_dev::iam::granted(&template.resources["StaffInboxFunction"].properties);
    let mut used = std::collections::BTreeSet::new();
    for r in recorder.signed_requests().await.unwrap() {
        if r.principal.as_deref() == Some(staff_inbox::NAME) {
            used.extend(custops_dev::iam::actions_of(&r.call, &r.body));
        }
    }
    let actions: Vec<&str> = used.iter().map(|n| n.action.as_str()).collect();
    for needed in [
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "sns:Publish",
    ] {
        assert!(actions.contains(&needed), "the flow exercised {needed}: {actions:?}");
    }
    let missing: Vec<_> = used.iter().filter(|n| !granted.contains(n)).collect();
    assert!(missing.is_empty(), "StaffInboxFunction lacks {missing:?}");
    let unused: Vec<_> = granted
        .iter()
        .filter(|g| !g.action.starts_with("kms:") && !used.iter().any(|n| n.action == g.action))
        .collect();
    assert!(unused.is_empty(), "StaffInboxFunction is granted what it never used: {unused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_nobody_answers_within_the_stores_reply_time_is_escalated_once_to_its_owner_and_the_managers() {
    let h = Harness::start(NOW).await;
    let queue = alert_queue(&h).await;
    h.publish(&text_from(MARIA, "m-9", "Can I come at 2?")).await;
    h.settle().await;
    assert_eq!(alerts(&h, &queue).await.len(), 1, "task.created");

    // Ten minutes on: within the 15 of the store's reply time, nothing.
    h.clock.set(at("2026-11-24T16:10:00Z"));
    h.stack.tick().await.unwrap();
    h.settle().await;
    assert!(alerts(&h, &queue).await.is_empty());

    // Sixteen minutes on: escalated, to the owner and to the managers, once.
    for _ in 0..2 {
        h.clock.set(at("2026-11-24T16:16:00Z"));
        h.stack.tick().await.unwrap();
        h.settle().await;
    }
    let escalated = alerts(&h, &queue).await;
    let owners: Vec<(&str, &str)> = escalated.iter().map(|(_, k, _, o)| (k.as_str(), o.as_str())).collect();
    assert_eq!(owners.len(), 2, "{escalated:?}");
    assert!(owners.contains(&("task.escalated", "bdc")) && owners.contains(&("task.escalated", "managers")));
    let open = commands::tasks(&h.target, Some("northside-chevy"), None).await.unwrap();
    let task = open.iter().find(|t| t.task_id == "reply-m-9").unwrap();
    assert_eq!(task.escalated_at, Some(at("2026-11-24T16:16:00Z")));

    // The report counts it.
    let (report, _) =
        commands::report(&h.target, "northside-chevy", "2026-11-24".parse().unwrap(), at("2026-11-24T23:00:00Z"))
            .await
            .unwrap();
    assert_eq!((report.replies.received, report.replies.escalated, report.replies.answered), (1, 1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_after_closing_time_waits_for_the_next_opening_before_it_is_escalated() {
    // Tuesday 18:55 in Chicago: 5 open minutes left, 10 more from Wednesday 07:00.
    let h = Harness::start("2026-11-25T00:55:00Z").await;
    h.publish(&text_from(MARIA, "m-7", "Are you open tomorrow?")).await;
    h.settle().await;
    for t in ["2026-11-25T01:20:00Z", "2026-11-25T13:05:00Z"] {
        h.clock.set(at(t));
        h.stack.tick().await.unwrap();
        h.settle().await;
    }
    let open = commands::tasks(&h.target, Some("northside-chevy"), None).await.unwrap();
    assert_eq!(open[0].escalated_at, None, "the night does not count");
    h.clock.set(at("2026-11-25T13:11:00Z"));
    h.stack.tick().await.unwrap();
    h.settle().await;
    let open = commands::tasks(&h.target, Some("northside-chevy"), None).await.unwrap();
    assert_eq!(open[0].escalate_at, Some(at("2026-11-25T13:10:00Z")));
    assert_eq!(open[0].escalated_at, Some(at("2026-11-25T13:11:00Z")));
}

/// A lead that came by mail without a number is a record keyed by its
/// address: sales sees its task, opens the record, and closes the task.
#[tokio::test]
async fn sales_opens_and_closes_a_lead_that_came_without_a_phone_number() {
    let h = Harness::start("2026-11-24T15:13:05Z").await;
    let mut store = custops_tests::northside();
    store["lead_addresses"] = serde_json::json!(["leads@northside.example"]);
    h.put_store(store).await;
    custops_cli::staff::add(&h.target, "northside-chevy", "rico@northside.example", "bdc-sales", false, Some(PASSWORD))
        .await
        .unwrap();
    let mut lead: Value =
        serde_json::from_str(include_str!("../../../events/lead-email/125-adf-lead-new-equinox.json")).unwrap();
    let content: String =
        lead["content"].as_str().unwrap().lines().filter(|l| !l.contains("<phone")).collect::<Vec<_>>().join("\n");
    lead["content"] = content.into();
    h.publish_raw(&lead.to_string()).await;
    h.settle().await;

    let http = h.stack.serve_http(0).await.unwrap();
    let mut rico = Browser::new(&http.url);
    assert_eq!(rico.sign_in("rico@northside.example", PASSWORD).await.status(), 303);
    let (status, list) = rico.get("/app/tasks").await;
    assert_eq!(status, 200);
    assert!(list.contains("Priya") || list.contains("lead"), "{list}");
    let (status, page) = rico.get("/app/customers/mailto:priya.raman@example.com?store=northside-chevy").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("priya.raman@example.com") && page.contains("2026 Chevrolet Equinox"), "{page}");
    let token = field(&page, "csrf");
    let task = h
        .table()
        .customer_state(&custops::CustomerId::new(
            "northside-chevy",
            custops::Phone::of_email("priya.raman@example.com").unwrap(),
        ))
        .await
        .unwrap()
        .open_task(custops::model::TaskKind::Lead)
        .cloned()
        .expect("the lead task");
    let (status, _, _) = rico
        .post(
            &format!("/app/tasks/{}/done", task.task_id),
            &[
                ("csrf", &token),
                ("store", "northside-chevy"),
                ("phone", "mailto:priya.raman@example.com"),
                ("outcome", "reached"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let state = h
        .table()
        .customer_state(&custops::CustomerId::new(
            "northside-chevy",
            custops::Phone::of_email("priya.raman@example.com").unwrap(),
        ))
        .await
        .unwrap();
    assert!(state.open_task(custops::model::TaskKind::Lead).is_none(), "closed");
}

/// The sign-in as an attacker tries it (CONTRACT.md section 10): a sign-in
/// posted from another site (login CSRF) is refused and makes no session;
/// password spraying locks the email after five failures for fifteen
/// minutes, with the very answer a wrong password gets, the right password
/// included; a session ends after eight idle hours and twelve hours after
/// sign-in whatever its use; a manager of one store is staff at the other;
/// every page carries the headers that keep phone numbers in URLs to itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_sign_in_is_refused_spraying_locks_the_email_and_sessions_end_on_their_clock() {
    let h = Harness::start(NOW).await;
    h.put_store(lakeside()).await;
    // Manager at Lakeside, staff (team bdc) at Northside.
    custops_cli::staff::add(&h.target, "lakeside-ford", "gm@northside.example", "bdc", true, Some(PASSWORD))
        .await
        .unwrap();
    custops_cli::staff::add(&h.target, "northside-chevy", "gm@northside.example", "bdc", false, Some(PASSWORD))
        .await
        .unwrap();
    h.publish(&custops_tests::call_missed("carrier-1", "call-1", "+15125550177", NOW)).await;
    h.settle().await;
    let http = h.stack.serve_http(0).await.unwrap();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let post_sign_in = |password: &str, headers: &[(&str, &str)]| {
        let mut req = client
            .post(format!("{}/app/signin", http.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("email", "gm@northside.example"), ("password", password)]));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send()
    };

    // Login CSRF: another site's form, by Sec-Fetch-Site or by Origin.
    for headers in [&[("sec-fetch-site", "cross-site")][..], &[("origin", "https://evil.example")][..]] {
        let answer = post_sign_in(PASSWORD, headers).await.unwrap();
        assert_eq!(answer.status().as_u16(), 403, "{headers:?}");
        assert!(answer.headers().get("set-cookie").is_none(), "no session from another site's form");
    }
    let own = post_sign_in(PASSWORD, &[("sec-fetch-site", "same-origin"), ("origin", &http.url)]).await.unwrap();
    assert_eq!(own.status().as_u16(), 303, "the inbox's own form");

    // Every page: no sniffing, no referrer, no script, no <base>, never framed.
    let page = client.get(format!("{}/app/signin", http.url)).send().await.unwrap();
    let header = |name: &str| page.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "no-referrer");
    let csp = header("content-security-policy");
    for part in ["base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'", "default-src 'none'"] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("script-src"), "{csp}");
    assert!(header("strict-transport-security").is_empty(), "plain HTTP locally; HSTS on AWS (unit-tested)");

    // Spraying: five wrong passwords lock the email; the sixth try, with the
    // right password, gets the answer a wrong one gets.
    let wrong = post_sign_in("Wrong-horse-1", &[]).await.unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let wrong_page = wrong.text().await.unwrap();
    for _ in 0..4 {
        assert_eq!(post_sign_in("Wrong-horse-1", &[]).await.unwrap().status().as_u16(), 401);
    }
    let locked = post_sign_in(PASSWORD, &[]).await.unwrap();
    assert_eq!(locked.status().as_u16(), 401);
    assert!(locked.headers().get("set-cookie").is_none());
    assert_eq!(locked.text().await.unwrap(), wrong_page, "a lock reads as a wrong password");
    h.clock.advance(chrono::Duration::minutes(14));
    assert_eq!(post_sign_in(PASSWORD, &[]).await.unwrap().status().as_u16(), 401, "still locked");
    h.clock.advance(chrono::Duration::minutes(2));
    let signed_in = post_sign_in(PASSWORD, &[]).await.unwrap();
    assert_eq!(signed_in.status().as_u16(), 303, "fifteen minutes on, the right password works");
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let get = |path: String, cookie: String| {
        let client = client.clone();
        async move {
            let answer = client.get(path).header("cookie", cookie).send().await.unwrap();
            (answer.status().as_u16(), answer.text().await.unwrap())
        }
    };

    // A manager of Lakeside is staff at Northside: not the whole store there
    // (Northside's service callback is bdc-service's), no assigning.
    let (status, all) = get(format!("{}/app/tasks?view=all", http.url), cookie.clone()).await;
    assert_eq!(status, 200);
    assert!(!all.contains("callback-call-1"), "another team's task at a store they do not manage: {all}");
    let browser = Browser { base: http.url.clone(), http: client.clone(), cookie: Some(cookie.clone()) };
    let csrf = field(&all, "csrf");
    let (status, ..) = browser
        .post(
            "/app/tasks/callback-call-1/assign",
            &[("csrf", &csrf), ("store", "northside-chevy"), ("phone", "+15125550177"), ("owner", "bdc")],
        )
        .await;
    assert_eq!(status, 403, "a manager only where made one");

    // Idle: used every seven hours, the session holds until twelve hours
    // after sign-in; eight hours unused ends another.
    h.clock.advance(chrono::Duration::hours(7));
    assert_eq!(get(format!("{}/app/tasks", http.url), cookie.clone()).await.0, 200, "used within 8 hours");
    h.clock.advance(chrono::Duration::minutes(4 * 60 + 59));
    assert_eq!(get(format!("{}/app/tasks", http.url), cookie.clone()).await.0, 200, "11:59 after sign-in");
    h.clock.advance(chrono::Duration::minutes(1));
    assert_eq!(get(format!("{}/app/tasks", http.url), cookie.clone()).await.0, 303, "12 hours after sign-in");
    let fresh = post_sign_in(PASSWORD, &[]).await.unwrap();
    let fresh = fresh.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    h.clock.advance(chrono::Duration::hours(8));
    assert_eq!(get(format!("{}/app/tasks", http.url), fresh).await.0, 303, "8 hours unused");
}

/// `StaffMfa: ON` (the pool requires MFA): a person's first sign-in sets a
/// new password, then enrols an authenticator app (the secret shown as
/// text and as a QR code), a wrong code counting as a failed sign-in, then
/// signs in with the right one; every later sign-in asks for a code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_mfa_required_the_first_sign_in_enrols_an_authenticator_and_every_later_one_asks_its_code() {
    use aws_sdk_cognitoidentityprovider::types::{SoftwareTokenMfaConfigType, UserPoolMfaType};
    let h = Harness::start(NOW).await;
    let config = custops::aws::local(&h.emulator.endpoint).await;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&config);
    let template = custops_cli::template::Template::parse(
        custops_cli::template::TEMPLATE,
        &custops_cli::template::Placement::local(&h.emulator.endpoint),
    )
    .unwrap();
    let pool = custops_cli::local::made_up_ids(&template, &config).await.unwrap()["StaffUserPool"].clone();
    // As the deploy sets it with StaffMfa=ON.
    cognito
        .set_user_pool_mfa_config()
        .user_pool_id(&pool)
        .mfa_configuration(UserPoolMfaType::On)
        .software_token_mfa_configuration(SoftwareTokenMfaConfigType::builder().enabled(true).build())
        .send()
        .await
        .unwrap();
    // A new person, as `staff add` without --password leaves them: a temporary password.
    custops_cli::staff::add(&h.target, "northside-chevy", "rico@northside.example", "bdc-sales", false, None)
        .await
        .unwrap();
    cognito
        .admin_set_user_password()
        .user_pool_id(&pool)
        .username("rico@northside.example")
        .password("Temporary-horse-1")
        .permanent(false)
        .send()
        .await
        .unwrap();
    let http = h.stack.serve_http(0).await.unwrap();
    let anon = Browser::new(&http.url);
    let sign_in = |fields: Vec<(&'static str, String)>| {
        let anon = &anon;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let answer = anon.post_raw("/app/signin", form(&fields)).await;
            let status = answer.status().as_u16();
            let cookie = answer.headers().get("set-cookie").map(|c| c.to_str().unwrap().to_owned());
            (status, cookie, answer.text().await.unwrap())
        }
    };
    let email = || ("email", "rico@northside.example".to_owned());
    let (status, _, page) = sign_in(vec![email(), ("password", "Temporary-horse-1".into())]).await;
    assert!(status == 200 && page.contains(r#"name="new_password""#), "a new password first: {page}");
    let (status, cookie, page) = sign_in(vec![
        email(),
        ("step", "new_password".into()),
        ("session", field(&page, "session")),
        ("new_password", PASSWORD.into()),
    ])
    .await;
    assert!(status == 200 && cookie.is_none(), "no session before the authenticator");
    assert!(page.contains(r#"value="mfa_setup""#) && page.contains("<svg"), "enrolment, with its QR code: {page}");
    let start = page.find(r#"id="totp-secret">"#).unwrap() + r#"id="totp-secret">"#.len();
    let secret = page[start..].split('<').next().unwrap().to_owned();
    let session = field(&page, "session");
    let setup =
        |code: String| vec![email(), ("step", "mfa_setup".into()), ("session", session.clone()), ("code", code)];
    let unix = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    if unix() % 30 >= 26 {
        // A code about to turn over: wait for the next, as a person would.
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
    let right = custops_tests::totp(&secret, unix());
    let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000);
    let (status, cookie, _) = sign_in(setup(wrong)).await;
    assert_eq!((status, cookie), (401, None), "a wrong code");
    let (status, cookie, _) = sign_in(setup(custops_tests::totp(&secret, unix()))).await;
    assert_eq!(status, 303, "enrolled and signed in");
    assert!(cookie.unwrap().starts_with(staff_inbox::session::COOKIE));
    // From now on the password alone is not enough.
    let (status, cookie, page) = sign_in(vec![email(), ("password", PASSWORD.into())]).await;
    assert!(status == 200 && cookie.is_none() && page.contains(r#"value="mfa""#), "a code is asked for: {page}");
    let listed = custops_cli::staff::list(&h.target, "northside-chevy").await.unwrap();
    assert!(listed.iter().any(|p| p.email == "rico@northside.example" && p.mfa), "{listed:?}");
}

/// `staff add --alerts`: a person's alerts by text, filtered to their store
/// and teams (and `managers` where they manage). The subscription carries
/// the filter; a queue subscribed with that very filter gets Ana's team's
/// alert and not another team's, nor another store's (moto does not send
/// SMS to a topic's subscribers, but applies filter policies as SNS does);
/// `staff remove` ends the subscription.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_alerts_are_filtered_to_their_store_and_teams_and_end_with_staff_remove() {
    let h = Harness::start(NOW).await;
    h.put_store(lakeside()).await;
    let ana = custops_cli::staff::add_with_alerts(
        &h.target,
        "northside-chevy",
        "ana@northside.example",
        "bdc",
        false,
        Some(PASSWORD),
        Some("sms:(512) 555-0901"),
    )
    .await
    .unwrap();
    assert_eq!(ana.alerts.as_deref(), Some("sms:+15125550901"), "kept as E.164");
    assert!(custops_cli::staff::alert_target("sms:not-a-number").is_err());
    assert!(custops_cli::staff::alert_target("pager:123").is_err());
    let sns = &h.stack.clients.sns;
    let topic = h.stack.topic_arn("staff-alerts");
    let subscriptions = sns.list_subscriptions_by_topic().topic_arn(&topic).send().await.unwrap();
    let mine = subscriptions.subscriptions().iter().find(|s| s.endpoint() == Some("+15125550901")).unwrap();
    assert_eq!(mine.protocol(), Some("sms"));
    let arn = mine.subscription_arn().unwrap().to_owned();
    let attributes = sns.get_subscription_attributes().subscription_arn(&arn).send().await.unwrap();
    let filter: Value = serde_json::from_str(&attributes.attributes().unwrap()["FilterPolicy"]).unwrap();
    assert_eq!(filter, json!({"store_id": ["northside-chevy"], "owner": ["bdc"]}));

    // What that filter lets through, on a queue subscribed with it.
    let url = h.stack.clients.sqs.create_queue().queue_name("ana-filtered").send().await.unwrap().queue_url.unwrap();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint("arn:aws:sqs:us-east-1:123456789012:ana-filtered")
        .attributes("RawMessageDelivery", "true")
        .attributes("FilterPolicy", filter.to_string())
        .send()
        .await
        .unwrap();
    h.publish(&text_from(MARIA, "m-1", "Is my Tahoe ready?")).await; // a bdc reply task
    h.publish(&custops_tests::call_missed("carrier-1", "call-1", "+15125550177", NOW)).await; // bdc-service's
    h.settle().await;
    let got = alerts(&h, &url).await;
    let owners: Vec<(&str, &str)> = got.iter().map(|(_, _, s, o)| (s.as_str(), o.as_str())).collect();
    assert_eq!(owners, [("northside-chevy", "bdc")], "her team's alert only: {got:?}");

    // A second store: its own subscription, its own filter.
    custops_cli::staff::add_with_alerts(
        &h.target,
        "lakeside-ford",
        "ana@northside.example",
        "bdc",
        true,
        Some(PASSWORD),
        Some("email:ana@northside.example"),
    )
    .await
    .unwrap();
    let listed = custops_cli::staff::list(&h.target, "lakeside-ford").await.unwrap();
    assert_eq!(listed[0].alerts.as_deref(), Some("email:ana@northside.example"));
    let count =
        || async { sns.list_subscriptions_by_topic().topic_arn(&topic).send().await.unwrap().subscriptions().len() };
    let before = count().await;
    let removed = custops_cli::staff::remove(&h.target, "northside-chevy", "ana@northside.example").await.unwrap();
    assert!(removed.unsubscribed);
    assert_eq!(count().await, before - 1, "Northside's subscription ended");
    let left = sns.list_subscriptions_by_topic().topic_arn(&topic).send().await.unwrap();
    assert!(left.subscriptions().iter().all(|s| s.endpoint() != Some("+15125550901")));
    assert!(left.subscriptions().iter().any(|s| s.endpoint() == Some("ana@northside.example")), "Lakeside's stays");
}

/// A deal delivered at `store` to Maria, with Luis as co-buyer.
fn maria_buys(store: &str, deal_id: &str) -> Value {
    json!({"event_id": format!("dms-{deal_id}"), "event_type": "deal.delivered", "occurred_at": "2026-11-20T22:00:00Z",
           "store_id": store,
           "data": {"deal_id": deal_id, "delivered_at": "2026-11-20T22:00:00Z",
                    "customer": {"dms_id": "C-77", "first_name": "Maria", "last_name": "Lopez", "phone": "(512) 555-0142"},
                    "co_buyer": {"dms_id": "C-78", "first_name": "Luis", "last_name": "Lopez", "phone": "512-555-0143"},
                    "vehicle": {"vin": "1GNSKCKD5MR000002", "year": 2027, "make": "Chevrolet", "model": "Equinox"},
                    "salesperson": {"id": "S-4", "name": "Ana Ruiz"}}})
}

/// Section 14: the page a phone system opens on an incoming call. Signed
/// out, it goes through the sign-in and back to the same caller; a number
/// that is a customer at two of the person's stores is a choice; at one,
/// the record's first screen (the purchase, the household); a number
/// nobody has a record for is "new caller" and stays without one; a store
/// the person does not work at shows nothing of its customers.
#[tokio::test]
async fn the_caller_page_shows_the_record_before_hello_and_creates_nothing() {
    let h = Harness::start(NOW).await;
    h.put_store(lakeside()).await;
    for (store, email) in [("northside-chevy", "gm@northside.example"), ("lakeside-ford", "gm@northside.example")] {
        custops_cli::staff::add(&h.target, store, email, "bdc", true, Some(PASSWORD)).await.unwrap();
    }
    custops_cli::staff::add(&h.target, "lakeside-ford", "lee@lakeside.example", "bdc", false, Some(PASSWORD))
        .await
        .unwrap();
    h.publish(&maria_buys("northside-chevy", "D-1")).await;
    h.publish(&maria_buys("lakeside-ford", "D-2")).await;
    h.settle().await;
    let http = h.stack.serve_http(0).await.unwrap();

    // A desk phone opens the page: sign in first, then the same caller.
    let mut gm = Browser::new(&http.url);
    let (status, _) = gm.get("/app/caller?number=%2B15125550142").await;
    assert_eq!(status, 303);
    let asked = gm.http.get(format!("{}/app/caller?number=%2B15125550142", http.url)).send().await.unwrap();
    let location = asked.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/app/signin?next=%2Fapp%2Fcaller%3Fnumber%3D%252B15125550142");
    let (_, signin) = gm.get(&location).await;
    let next = field(&signin, "next");
    assert_eq!(next, "/app/caller?number=%2B15125550142");
    let body = form(&[("email", "gm@northside.example"), ("password", PASSWORD), ("next", &next)]);
    let answer = gm.post_raw("/app/signin", body).await;
    assert_eq!(answer.headers()["location"], "/app/caller?number=%2B15125550142");
    let c = answer.headers()["set-cookie"].to_str().unwrap();
    gm.cookie = Some(c.split(';').next().unwrap().to_owned());

    // A customer at both of the GM's stores: a choice.
    let (status, page) = gm.get("/app/caller?number=(512)%20555-0142").await;
    assert_eq!(status, 200);
    assert!(page.contains("Northside Chevrolet") && page.contains("Lakeside Ford"), "{page}");
    assert!(page.contains("/app/caller?number=%2B15125550142&#38;store=northside-chevy"), "{page}");
    // One store: the record's first screen.
    let (_, page) = gm.get("/app/caller?number=%2B15125550142&store=northside-chevy").await;
    assert!(page.contains("Maria Lopez"), "{page}");
    assert!(page.contains("2027 Chevrolet Equinox on"), "what they bought and when: {page}");
    assert!(page.contains("Luis Lopez (+15125550143), co-buyer of deal D-1"), "the household: {page}");
    assert!(page.contains("Next appointment") && page.contains("Consent"), "{page}");
    assert!(page.contains("first service"), "the open task: {page}");

    // Lee works at Lakeside only: Maria's Lakeside record, nothing of Northside's.
    let mut lee = Browser::new(&http.url);
    assert_eq!(lee.sign_in("lee@lakeside.example", PASSWORD).await.status(), 303);
    let (_, page) = lee.get("/app/caller?number=5125550142").await;
    assert!(page.contains("Lakeside Ford") && page.contains("deal D-2") && !page.contains("D-1"), "{page}");
    let (_, page) = lee.get("/app/caller?number=5125550142&store=northside-chevy").await;
    assert!(page.contains("New caller") && !page.contains("Maria"), "another store's customer is not shown: {page}");

    // A number nobody has a record for: "new caller", and still no record.
    let (status, page) = gm.get("/app/caller?number=%2B15125550199").await;
    assert_eq!(status, 200);
    assert!(page.contains("New caller") && page.contains("+15125550199"), "{page}");
    let stranger = custops::CustomerId::new("northside-chevy", Phone::parse("+15125550199").unwrap());
    assert!(h.table().get_profile(&stranger).await.unwrap().is_none(), "the page created nothing");
    let (status, _) = gm.get("/app/caller?number=call-me").await;
    assert_eq!(status, 400);
    // Never a way to another page or site through the sign-in.
    let (_, signin) = Browser::new(&http.url).get("/app/signin?next=https://evil.example/app/caller?number=1").await;
    assert!(!signin.contains("evil.example"), "{signin}");
    let (_, signin) = Browser::new(&http.url).get("/app/signin?next=/app/caller?number=1%26store%3Dx").await;
    assert!(!signin.contains(r#"name="next""#), "a next with more than the number is dropped: {signin}");
}

/// Section 14: a person links two records of their store from a record's
/// page ("same household as"); both show the other. A number without a
/// record, another store's customer, a form from another session or a
/// store the person does not work at links nothing.
#[tokio::test]
async fn a_person_links_two_records_as_one_household_from_the_record_page_and_nothing_else() {
    let h = Harness::start(NOW).await;
    h.put_store(lakeside()).await;
    custops_cli::staff::add(&h.target, "northside-chevy", "gm@northside.example", "bdc", true, Some(PASSWORD))
        .await
        .unwrap();
    custops_cli::staff::add(&h.target, "lakeside-ford", "lee@lakeside.example", "bdc", false, Some(PASSWORD))
        .await
        .unwrap();
    h.publish(&maria_buys("northside-chevy", "D-1")).await;
    h.publish(&text_from("+15125550177", "m-177", "is my car ready?")).await;
    h.publish(&maria_buys("lakeside-ford", "D-2")).await;
    h.settle().await;
    let http = h.stack.serve_http(0).await.unwrap();
    let mut gm = Browser::new(&http.url);
    assert_eq!(gm.sign_in("gm@northside.example", PASSWORD).await.status(), 303);
    let (_, page) = gm.get("/app/customers/+15125550142?store=northside-chevy").await;
    let csrf = field(&page, "csrf");
    assert!(page.contains("Same household as"), "{page}");

    let link = |other: &'static str, csrf: String| {
        vec![("csrf", csrf), ("store", "northside-chevy".to_owned()), ("other", other.to_owned())]
    };
    let post = |gm: &Browser, fields: Vec<(&'static str, String)>| {
        let fields: Vec<(&str, String)> = fields;
        let body = form(&fields.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>());
        let url = format!("{}/app/customers/+15125550142/household", http.url);
        let request = gm.http.post(url).header("content-type", "application/x-www-form-urlencoded");
        let request = match &gm.cookie {
            Some(c) => request.header("cookie", c),
            None => request,
        };
        request.body(body).send()
    };
    // A number with no record at the store: nothing.
    let refused = post(&gm, link("+15125550199", csrf.clone())).await.unwrap();
    let text = refused.text().await.unwrap();
    assert!(text.contains("Not linked") && text.contains("no record at this store"), "{text}");
    // Without the session's form token: refused.
    let forged = post(&gm, link("(512) 555-0177", "forged".into())).await.unwrap();
    assert_eq!(forged.status(), 403);
    // Lee, of Lakeside, cannot link Northside's records.
    let mut lee = Browser::new(&http.url);
    assert_eq!(lee.sign_in("lee@lakeside.example", PASSWORD).await.status(), 303);
    let (_, lee_page) = lee.get("/app/customers/+15125550142?store=lakeside-ford").await;
    let lee_csrf = field(&lee_page, "csrf");
    let crossed = post(&lee, link("(512) 555-0177", lee_csrf)).await.unwrap();
    assert_eq!(crossed.status(), 404, "a store the person does not work at");
    let maria = custops::CustomerId::new("northside-chevy", Phone::parse("+15125550142").unwrap());
    assert!(!h
        .table()
        .customer_state(&maria)
        .await
        .unwrap()
        .household
        .iter()
        .any(|m| m.member.e164() == "+15125550177"));

    // The caller who texted, linked by the GM: both records show the other.
    let linked = post(&gm, link("(512) 555-0177", csrf)).await.unwrap();
    assert_eq!(linked.status(), 303);
    let (_, page) = gm.get(linked.headers()["location"].to_str().unwrap()).await;
    assert!(page.contains("Linked: one household"), "{page}");
    assert!(page.contains("(+15125550177), linked by staff"), "{page}");
    let (_, other) = gm.get("/app/customers/+15125550177?store=northside-chevy").await;
    assert!(other.contains("(+15125550142), linked by staff"), "{other}");
    let state = h.table().customer_state(&maria).await.unwrap();
    assert_eq!(state.household.len(), 2, "the co-buyer and the linked caller");
    assert!(state.consent.history.iter().all(|c| !c.source.contains("household")), "consent stays each person's");
}

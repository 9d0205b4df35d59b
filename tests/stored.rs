//! Stored chat completions: get, update, delete, list and messages (each with its
//! `_with_http_info` twin), path and query encoding, and the auto-paging iterators.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use crate::common;

use common::{api, completion, After, Server, KEY};
use httpmock::MockServer;
use serde_json::{json, Value};
use sync_openai::types::{
    ChatCompletionMessageListContentPart, GetChatCompletionMessagesParams,
    ListChatCompletionsParams, Order,
};
use sync_openai::{ChatApi, Config, Error};

// ---------------------------------------------------------------------------------------
// Fixtures

/// A `list` object in the shape both listings share.
fn list_of(data: Vec<Value>, has_more: bool) -> Value {
    let first = data.first().map(|v| v["id"].clone()).unwrap_or(Value::Null);
    let last = data.last().map(|v| v["id"].clone()).unwrap_or(Value::Null);
    json!({"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": has_more})
}

fn completions_page(ids: &[&str], has_more: bool) -> Value {
    list_of(ids.iter().map(|id| completion(id)).collect(), has_more)
}

fn message(id: &str) -> Value {
    json!({"id": id, "role": "user", "content": format!("text of {id}"), "name": null, "content_parts": null})
}

fn messages_page(ids: &[&str], has_more: bool) -> Value {
    list_of(ids.iter().map(|id| message(id)).collect(), has_more)
}

fn ids<T>(items: &[Result<T, Error>], id: impl Fn(&T) -> &str) -> Vec<String> {
    items
        .iter()
        .map(|r| id(r.as_ref().unwrap()).to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------
// The raw server records each request exactly as it came off the socket, so an assertion
// sees the request line the client wrote, with nothing decoded.

/// Answers every request with `200` and `body`, closing each connection.
fn raw_server(body: Value) -> Server {
    let body = body.to_string();
    Server::per_request(move |_, conn| {
        conn.respond(
            "200 OK",
            &[
                ("content-type", "application/json"),
                ("x-request-id", "req_raw"),
                ("connection", "close"),
            ],
            body.as_bytes(),
        );
        After::Close
    })
}

// ---------------------------------------------------------------------------------------
// get

#[test]
fn get_sends_get_to_the_completion_path_and_decodes_it() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("GET")
            .path("/v1/chat/completions/chatcmpl-abc")
            .header("authorization", format!("Bearer {KEY}"))
            .query_param_count(".*", ".*", 0)
            .is_true(|req| req.body_ref().is_empty());
        then.status(200)
            .header("x-request-id", "req_get")
            .json_body(completion("chatcmpl-abc"));
    });
    let c = api(&server).get_chat_completion("chatcmpl-abc").unwrap();
    mock.assert();
    assert_eq!(c.id, "chatcmpl-abc");
    assert_eq!(c.object, "chat.completion");
    assert_eq!(c.model, "gpt-4o-mini-2024-07-18");
    assert_eq!(
        c.choices[0].message.content.as_deref(),
        Some("answer of chatcmpl-abc")
    );
    assert_eq!(c.metadata.unwrap()["app"], "demo");
    assert_eq!(c.usage.unwrap().total_tokens, 12);
}

#[test]
fn get_with_http_info_gives_status_headers_and_data() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("GET").path("/v1/chat/completions/chatcmpl-abc");
        then.status(200)
            .header("x-request-id", "req_get")
            .header("openai-processing-ms", "17")
            .json_body(completion("chatcmpl-abc"));
    });
    let resp = api(&server)
        .get_chat_completion_with_http_info("chatcmpl-abc")
        .unwrap();
    mock.assert();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.request_id(), Some("req_get"));
    assert_eq!(resp.processing_ms(), Some(17));
    assert_eq!(resp.retries(), 0);
    assert_eq!(resp.data.id, "chatcmpl-abc");
}

#[test]
fn get_of_an_unknown_id_is_a_not_found_api_error() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method("GET").path("/v1/chat/completions/chatcmpl-gone");
        then.status(404).header("x-request-id", "req_404").body(
            r#"{"error":{"message":"No chat completion found with id 'chatcmpl-gone'.","type":"invalid_request_error","param":null,"code":null}}"#,
        );
    });
    let err = api(&server)
        .get_chat_completion("chatcmpl-gone")
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    let Error::Api(api_err) = &err else {
        panic!("expected an API error, got {err:?}")
    };
    assert_eq!(api_err.kind(), sync_openai::error::ApiErrorKind::NotFound);
    assert!(
        err.to_string().contains("No chat completion found"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------
// update

#[test]
fn update_posts_exactly_the_metadata_object() {
    let server = MockServer::start();
    let mut updated = completion("chatcmpl-abc");
    updated["metadata"] = json!({"reviewed": "yes", "score": "5 / 5 & more = ü"});
    let mock = server.mock(|when, then| {
        when.method("POST")
            .path("/v1/chat/completions/chatcmpl-abc")
            .header("content-type", "application/json")
            .json_body(json!({"metadata": {"reviewed": "yes", "score": "5 / 5 & more = ü"}}));
        then.status(200).json_body(updated);
    });
    let c = api(&server)
        .update_chat_completion(
            "chatcmpl-abc",
            [("reviewed", "yes"), ("score", "5 / 5 & more = ü")],
        )
        .unwrap();
    mock.assert();
    let metadata = c.metadata.unwrap();
    assert_eq!(metadata.len(), 2);
    assert_eq!(metadata["reviewed"], "yes");
    assert_eq!(metadata["score"], "5 / 5 & more = ü");
}

#[test]
fn update_body_is_byte_for_byte_the_metadata_object_and_nothing_else() {
    let raw = raw_server(completion("chatcmpl-abc"));
    let metadata = std::collections::BTreeMap::from([
        ("k".to_owned(), "v".to_owned()),
        ("a b".to_owned(), "x\"y".to_owned()),
    ]);
    raw.api(|c| c)
        .update_chat_completion("chatcmpl-abc", metadata)
        .unwrap();
    let req = raw.only();
    assert_eq!(req.method(), "POST");
    assert_eq!(req.target(), "/v1/chat/completions/chatcmpl-abc");
    assert_eq!(req.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body, json!({"metadata": {"k": "v", "a b": "x\"y"}}));
}

#[test]
fn update_with_no_pairs_sends_an_empty_metadata_object() {
    let raw = raw_server(completion("chatcmpl-abc"));
    raw.api(|c| c)
        .update_chat_completion("chatcmpl-abc", Vec::<(String, String)>::new())
        .unwrap();
    let req = raw.only();
    assert_eq!(req.method(), "POST");
    assert_eq!(
        serde_json::from_slice::<Value>(&req.body).unwrap(),
        json!({"metadata": {}})
    );
}

#[test]
fn update_with_http_info_gives_status_headers_and_data() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("POST")
            .path("/v1/chat/completions/chatcmpl-abc")
            .json_body(json!({"metadata": {"reviewed": "no"}}));
        then.status(200)
            .header("x-request-id", "req_upd")
            .json_body(completion("chatcmpl-abc"));
    });
    let resp = api(&server)
        .update_chat_completion_with_http_info("chatcmpl-abc", [("reviewed", "no")])
        .unwrap();
    mock.assert();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.request_id(), Some("req_upd"));
    assert_eq!(resp.data.id, "chatcmpl-abc");
}

// ---------------------------------------------------------------------------------------
// delete

#[test]
fn delete_sends_delete_and_decodes_the_deletion() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("DELETE")
            .path("/v1/chat/completions/chatcmpl-abc")
            .header("authorization", format!("Bearer {KEY}"))
            .query_param_count(".*", ".*", 0)
            .is_true(|req| req.body_ref().is_empty());
        then.status(200).json_body(
            json!({"object": "chat.completion.deleted", "id": "chatcmpl-abc", "deleted": true}),
        );
    });
    let d = api(&server).delete_chat_completion("chatcmpl-abc").unwrap();
    mock.assert();
    assert_eq!(d.object, "chat.completion.deleted");
    assert_eq!(d.id, "chatcmpl-abc");
    assert!(d.deleted);
    assert!(d.extra.is_empty());
}

#[test]
fn delete_with_http_info_gives_status_headers_and_data() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("DELETE").path("/v1/chat/completions/chatcmpl-abc");
        then.status(200)
            .header("x-request-id", "req_del")
            .json_body(
                json!({"object": "chat.completion.deleted", "id": "chatcmpl-abc", "deleted": false}),
            );
    });
    let resp = api(&server)
        .delete_chat_completion_with_http_info("chatcmpl-abc")
        .unwrap();
    mock.assert();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.request_id(), Some("req_del"));
    assert!(!resp.data.deleted);
    assert_eq!(resp.data.id, "chatcmpl-abc");
}

// ---------------------------------------------------------------------------------------
// list

#[test]
fn list_without_params_sends_no_query_and_decodes_the_page() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("GET")
            .path("/v1/chat/completions")
            .query_param_count(".*", ".*", 0)
            .is_true(|req| req.body_ref().is_empty());
        then.status(200)
            .json_body(completions_page(&["chatcmpl-1", "chatcmpl-2"], true));
    });
    let page = api(&server)
        .list_chat_completions(&ListChatCompletionsParams::new())
        .unwrap();
    mock.assert();
    assert_eq!(page.object, "list");
    assert_eq!(
        page.data.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["chatcmpl-1", "chatcmpl-2"]
    );
    assert_eq!(page.first_id.as_deref(), Some("chatcmpl-1"));
    assert_eq!(page.last_id.as_deref(), Some("chatcmpl-2"));
    assert!(page.has_more);
    assert_eq!(
        page.data[1].choices[0].message.content.as_deref(),
        Some("answer of chatcmpl-2")
    );

    // Not even a bare `?` on the wire.
    let raw = raw_server(completions_page(&[], false));
    raw.api(|c| c)
        .list_chat_completions(&ListChatCompletionsParams::new())
        .unwrap();
    assert_eq!(raw.only().target(), "/v1/chat/completions");
}

#[test]
fn list_encodes_model_metadata_filters_and_paging() {
    let params = ListChatCompletionsParams::new()
        .model("gpt-4o mini")
        .metadata("user id", "a&b=c")
        .metadata("plain", "x")
        .metadata("ключ", "значение ✓")
        .metadata("k=v&x", "50%+1")
        .after("chatcmpl-9")
        .limit(3)
        .order(Order::Desc);
    let server = MockServer::start();
    // httpmock decodes the query: each pair arrives intact, no pair leaks into another.
    let mock = server.mock(|when, then| {
        when.method("GET")
            .path("/v1/chat/completions")
            .query_param("model", "gpt-4o mini")
            .query_param("metadata[user id]", "a&b=c")
            .query_param("metadata[plain]", "x")
            .query_param("metadata[ключ]", "значение ✓")
            .query_param("metadata[k=v&x]", "50%+1")
            .query_param("after", "chatcmpl-9")
            .query_param("limit", "3")
            .query_param("order", "desc")
            .query_param_count(".*", ".*", 8);
        then.status(200).json_body(completions_page(&[], false));
    });
    let page = api(&server).list_chat_completions(&params).unwrap();
    mock.assert();
    assert!(page.data.is_empty());
    assert!(!page.has_more);

    // And the exact bytes on the wire: keys and values percent-encoded, spaces as %20
    // (never `+`, which a server would read back as a space), model / metadata sorted by
    // key / after / limit / order.
    let raw = raw_server(completions_page(&[], false));
    raw.api(|c| c).list_chat_completions(&params).unwrap();
    let req = raw.only();
    assert_eq!(req.method(), "GET");
    assert_eq!(
        req.target(),
        "/v1/chat/completions?model=gpt-4o%20mini\
         &metadata%5Bk%3Dv%26x%5D=50%25%2B1\
         &metadata%5Bplain%5D=x\
         &metadata%5Buser%20id%5D=a%26b%3Dc\
         &metadata%5B%D0%BA%D0%BB%D1%8E%D1%87%5D=%D0%B7%D0%BD%D0%B0%D1%87%D0%B5%D0%BD%D0%B8%D0%B5%20%E2%9C%93\
         &after=chatcmpl-9&limit=3&order=desc"
    );
}

#[test]
fn list_with_http_info_gives_status_headers_and_data() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("GET")
            .path("/v1/chat/completions")
            .query_param("model", "gpt-4o")
            .query_param("order", "asc")
            .query_param_count(".*", ".*", 2);
        then.status(200)
            .header("x-request-id", "req_list")
            .json_body(completions_page(&["chatcmpl-1"], false));
    });
    let resp = api(&server)
        .list_chat_completions_with_http_info(
            &ListChatCompletionsParams::new()
                .model("gpt-4o")
                .order(Order::Asc),
        )
        .unwrap();
    mock.assert();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.request_id(), Some("req_list"));
    assert_eq!(resp.data.data.len(), 1);
    assert_eq!(resp.data.data[0].id, "chatcmpl-1");
    assert!(!resp.data.has_more);
}

#[test]
fn empty_list_decodes_and_iterates_to_nothing_with_one_request() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("GET").path("/v1/chat/completions");
        then.status(200)
            .body(r#"{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}"#);
    });
    let api = api(&server);
    let page = api
        .list_chat_completions(&ListChatCompletionsParams::new())
        .unwrap();
    assert!(page.data.is_empty());
    assert_eq!(page.first_id, None);
    assert_eq!(page.last_id, None);
    let mut it = api.iter_chat_completions(ListChatCompletionsParams::new());
    assert!(it.next().is_none());
    assert!(it.next().is_none());
    mock.assert_calls(2);
}

// ---------------------------------------------------------------------------------------
// messages

#[test]
fn messages_sends_paging_query_and_decodes_messages_and_parts() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("GET")
            .path("/v1/chat/completions/chatcmpl-abc/messages")
            .query_param("after", "msg_0")
            .query_param("limit", "2")
            .query_param("order", "desc")
            .query_param_count(".*", ".*", 3)
            .is_true(|req| req.body_ref().is_empty());
        then.status(200).json_body(json!({
            "object": "list",
            "data": [
                {"id": "chatcmpl-abc-0", "role": "user", "content": "What is in this image?", "name": "ann",
                 "content_parts": [
                    {"type": "text", "text": "What is in this image?"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}},
                    {"type": "input_audio", "input_audio": {"data": "AAA=", "format": "wav"}}
                 ]},
                {"id": "chatcmpl-abc-1", "role": "assistant", "content": "A cat.", "refusal": null}
            ],
            "first_id": "chatcmpl-abc-0",
            "last_id": "chatcmpl-abc-1",
            "has_more": false
        }));
    });
    let page = api(&server)
        .get_chat_completion_messages(
            "chatcmpl-abc",
            &GetChatCompletionMessagesParams::new()
                .after("msg_0")
                .limit(2)
                .order(Order::Desc),
        )
        .unwrap();
    mock.assert();
    assert_eq!(page.object, "list");
    assert_eq!(page.first_id.as_deref(), Some("chatcmpl-abc-0"));
    assert_eq!(page.last_id.as_deref(), Some("chatcmpl-abc-1"));
    assert!(!page.has_more);
    let user = &page.data[0];
    assert_eq!(user.id, "chatcmpl-abc-0");
    assert_eq!(user.message.role.as_ref().unwrap().as_str(), "user");
    assert_eq!(
        user.message.content.as_deref(),
        Some("What is in this image?")
    );
    assert_eq!(user.message.extra["name"], "ann");
    let parts = user.content_parts.as_ref().unwrap();
    assert_eq!(parts.len(), 3);
    assert!(
        matches!(&parts[0], ChatCompletionMessageListContentPart::Text(t) if t.text == "What is in this image?")
    );
    assert!(
        matches!(&parts[1], ChatCompletionMessageListContentPart::ImageUrl(i) if i.image_url.url == "https://example.com/a.png")
    );
    assert!(
        matches!(&parts[2], ChatCompletionMessageListContentPart::Other(v) if v["type"] == "input_audio")
    );
    let assistant = &page.data[1];
    assert_eq!(
        assistant.message.role.as_ref().unwrap().as_str(),
        "assistant"
    );
    assert_eq!(assistant.message.content.as_deref(), Some("A cat."));
    assert_eq!(assistant.content_parts, None);
}

#[test]
fn messages_without_params_sends_no_query() {
    let raw = raw_server(messages_page(&["m1"], false));
    let page = raw
        .api(|c| c)
        .get_chat_completion_messages("chatcmpl-abc", &GetChatCompletionMessagesParams::new())
        .unwrap();
    let req = raw.only();
    assert_eq!(req.method(), "GET");
    assert_eq!(req.target(), "/v1/chat/completions/chatcmpl-abc/messages");
    assert!(req.body.is_empty());
    assert_eq!(page.data[0].id, "m1");
}

#[test]
fn messages_with_http_info_gives_status_headers_and_data() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("GET")
            .path("/v1/chat/completions/chatcmpl-abc/messages")
            .query_param("limit", "1")
            .query_param_count(".*", ".*", 1);
        then.status(200)
            .header("x-request-id", "req_msgs")
            .json_body(messages_page(&["m1"], true));
    });
    let resp = api(&server)
        .get_chat_completion_messages_with_http_info(
            "chatcmpl-abc",
            &GetChatCompletionMessagesParams::new().limit(1),
        )
        .unwrap();
    mock.assert();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.request_id(), Some("req_msgs"));
    assert_eq!(resp.data.data[0].id, "m1");
    assert_eq!(
        resp.data.data[0].message.content.as_deref(),
        Some("text of m1")
    );
    assert!(resp.data.has_more);
}

// ---------------------------------------------------------------------------------------
// hostile ids

/// Ids that would change the path if sent as they are, with the one segment each must become.
const HOSTILE: &[(&str, &str)] = &[
    ("a/b", "a%2Fb"),
    ("../../models", "..%2F..%2Fmodels"),
    ("x?limit=1&order=desc", "x%3Flimit%3D1%26order%3Ddesc"),
    ("x#frag", "x%23frag"),
    ("chat cmpl\t1", "chat%20cmpl%091"),
    ("a..b", "a..b"),
    ("100%", "100%25"),
    ("%2F..%2F", "%252F..%252F"),
    ("a+b;c,d", "a%2Bb%3Bc%2Cd"),
    ("é✓", "%C3%A9%E2%9C%93"),
    ("line\r\nX-Injected: 1", "line%0D%0AX-Injected%3A%201"),
];

#[test]
fn hostile_ids_become_one_percent_encoded_segment_in_every_operation() {
    for (id, segment) in HOSTILE {
        let path = format!("/v1/chat/completions/{segment}");
        let raw = raw_server(completion("chatcmpl-abc"));
        let api = raw.api(|c| c);

        api.get_chat_completion(id).unwrap();
        api.get_chat_completion_with_http_info(id).unwrap();
        api.update_chat_completion(id, [("k", "v")]).unwrap();
        api.update_chat_completion_with_http_info(id, [("k", "v")])
            .unwrap();
        let got: Vec<(String, String)> = raw
            .log()
            .iter()
            .map(|r| (r.method().to_owned(), r.target().to_owned()))
            .collect();
        let want: Vec<(String, String)> = ["GET", "GET", "POST", "POST"]
            .iter()
            .map(|m| (m.to_string(), path.clone()))
            .collect();
        assert_eq!(got, want, "id {id:?}");
        for r in raw.log() {
            assert!(
                r.header("x-injected").is_none(),
                "id {id:?} injected a header"
            );
        }

        let raw =
            raw_server(json!({"object": "chat.completion.deleted", "id": id, "deleted": true}));
        let api = raw.api(|c| c);
        assert_eq!(api.delete_chat_completion(id).unwrap().id, *id);
        api.delete_chat_completion_with_http_info(id).unwrap();
        let got: Vec<String> = raw
            .log()
            .iter()
            .map(|r| format!("{} {}", r.method(), r.target()))
            .collect();
        assert_eq!(got, [format!("DELETE {path}"), format!("DELETE {path}")]);

        let raw = raw_server(messages_page(&[], false));
        let api = raw.api(|c| c);
        let params = GetChatCompletionMessagesParams::new().limit(5);
        api.get_chat_completion_messages(id, &params).unwrap();
        api.get_chat_completion_messages_with_http_info(id, &params)
            .unwrap();
        assert_eq!(api.iter_chat_completion_messages(id, params).count(), 0);
        let got: Vec<String> = raw
            .log()
            .iter()
            .map(|r| format!("{} {}", r.method(), r.target()))
            .collect();
        let want = format!("GET {path}/messages?limit=5");
        assert_eq!(got, [want.clone(), want.clone(), want], "id {id:?}");
    }
}

#[test]
fn hostile_ids_also_match_httpmock_exact_path() {
    // httpmock compares the raw (undecoded) path, so the same segments match here too.
    let server = MockServer::start();
    for (id, segment) in HOSTILE {
        let path = format!("/v1/chat/completions/{segment}");
        let mock = server.mock(|when, then| {
            when.method("GET").path(path.clone());
            then.status(200).json_body(completion("chatcmpl-abc"));
        });
        api(&server).get_chat_completion(id).unwrap();
        mock.assert();
    }
}

/// Ids that are dot segments, or empty, would name another resource however they are
/// encoded (`/chat/completions/..` is `/chat/`, `/chat/completions/` is the listing): they
/// must be refused before anything is sent.
#[test]
fn dot_and_empty_ids_are_refused_without_a_request() {
    let raw = raw_server(completion("chatcmpl-abc"));
    let api = raw.api(|c| c);
    for id in ["", ".", ".."] {
        let results = [
            api.get_chat_completion(id).map(|_| ()),
            api.get_chat_completion_with_http_info(id).map(|_| ()),
            api.update_chat_completion(id, [("k", "v")]).map(|_| ()),
            api.update_chat_completion_with_http_info(id, [("k", "v")])
                .map(|_| ()),
            api.delete_chat_completion(id).map(|_| ()),
            api.delete_chat_completion_with_http_info(id).map(|_| ()),
            api.get_chat_completion_messages(id, &GetChatCompletionMessagesParams::new())
                .map(|_| ()),
            api.get_chat_completion_messages_with_http_info(
                id,
                &GetChatCompletionMessagesParams::new(),
            )
            .map(|_| ()),
        ];
        for r in results {
            let err = r.unwrap_err();
            assert!(
                matches!(err, Error::InvalidRequest(_)),
                "id {id:?}: {err:?}"
            );
            assert!(err.to_string().contains("completion id"), "{err}");
        }
        let mut it = api.iter_chat_completion_messages(id, GetChatCompletionMessagesParams::new());
        assert!(matches!(it.next(), Some(Err(Error::InvalidRequest(_)))));
        assert!(it.next().is_none());
    }
    assert!(raw.log().is_empty(), "sent: {:#?}", raw.log());
}

#[test]
fn hostile_after_cursor_is_encoded_as_one_query_value() {
    let raw = raw_server(completions_page(&[], false));
    raw.api(|c| c)
        .list_chat_completions(
            &ListChatCompletionsParams::new()
                .after("c1&limit=100#x")
                .limit(2),
        )
        .unwrap();
    assert_eq!(
        raw.only().target(),
        "/v1/chat/completions?after=c1%26limit%3D100%23x&limit=2"
    );
}

// ---------------------------------------------------------------------------------------
// paging

#[test]
fn iter_chat_completions_follows_three_pages_lazily() {
    let server = MockServer::start();
    let params = ListChatCompletionsParams::new()
        .model("gpt-4o")
        .metadata("app", "demo x")
        .limit(2)
        .order(Order::Desc);
    let page = |after: Option<&'static str>, body: Value| {
        server.mock(|when, then| {
            let when = when
                .method("GET")
                .path("/v1/chat/completions")
                .query_param("model", "gpt-4o")
                .query_param("metadata[app]", "demo x")
                .query_param("limit", "2")
                .query_param("order", "desc");
            match after {
                Some(a) => {
                    when.query_param("after", a)
                        .query_param_count(".*", ".*", 5);
                }
                None => {
                    when.query_param_missing("after")
                        .query_param_count(".*", ".*", 4);
                }
            }
            then.status(200).json_body(body);
        })
    };
    let p1 = page(None, completions_page(&["c1", "c2"], true));
    let p2 = page(Some("c2"), completions_page(&["c3", "c4"], true));
    let p3 = page(Some("c4"), completions_page(&["c5"], false));

    let mut it = api(&server).iter_chat_completions(params);
    let calls = || (p1.calls(), p2.calls(), p3.calls());
    assert_eq!(
        calls(),
        (0, 0, 0),
        "nothing is fetched before the first next()"
    );
    assert_eq!(it.next().unwrap().unwrap().id, "c1");
    assert_eq!(calls(), (1, 0, 0));
    assert_eq!(it.next().unwrap().unwrap().id, "c2");
    assert_eq!(calls(), (1, 0, 0), "page 2 waits until page 1 is used up");
    assert_eq!(it.next().unwrap().unwrap().id, "c3");
    assert_eq!(calls(), (1, 1, 0));
    assert_eq!(it.next().unwrap().unwrap().id, "c4");
    assert_eq!(calls(), (1, 1, 0));
    assert_eq!(it.next().unwrap().unwrap().id, "c5");
    assert_eq!(calls(), (1, 1, 1));
    assert!(it.next().is_none());
    assert!(it.next().is_none());
    assert_eq!(
        calls(),
        (1, 1, 1),
        "has_more: false ends it without a request"
    );
}

#[test]
fn taking_one_item_fetches_only_the_first_page() {
    let server = MockServer::start();
    let p1 = server.mock(|when, then| {
        when.path("/v1/chat/completions")
            .query_param_missing("after");
        then.status(200)
            .json_body(completions_page(&["c1", "c2"], true));
    });
    let p2 = server.mock(|when, then| {
        when.path("/v1/chat/completions").query_param("after", "c2");
        then.status(200).json_body(completions_page(&["c3"], false));
    });
    let first: Vec<_> = api(&server)
        .iter_chat_completions(ListChatCompletionsParams::new())
        .take(1)
        .collect();
    assert_eq!(ids(&first, |c| &c.id), ["c1"]);
    assert_eq!((p1.calls(), p2.calls()), (1, 0));
}

#[test]
fn iter_starts_after_the_given_cursor() {
    let server = MockServer::start();
    let p = server.mock(|when, then| {
        when.path("/v1/chat/completions").query_param("after", "c0");
        then.status(200).json_body(completions_page(&["c1"], false));
    });
    let all: Vec<_> = api(&server)
        .iter_chat_completions(ListChatCompletionsParams::new().after("c0"))
        .collect();
    assert_eq!(ids(&all, |c| &c.id), ["c1"]);
    p.assert_calls(1);
}

#[test]
fn iter_chat_completion_messages_follows_three_pages_lazily() {
    let server = MockServer::start();
    // The id is hostile: every page request must keep it in one segment.
    let path = "/v1/chat/completions/chat%2Fcmpl%201/messages";
    let page = |after: Option<&'static str>, body: Value| {
        server.mock(|when, then| {
            let when = when
                .method("GET")
                .path(path)
                .query_param("limit", "2")
                .query_param("order", "asc");
            match after {
                Some(a) => {
                    when.query_param("after", a)
                        .query_param_count(".*", ".*", 3);
                }
                None => {
                    when.query_param_missing("after")
                        .query_param_count(".*", ".*", 2);
                }
            }
            then.status(200).json_body(body);
        })
    };
    let p1 = page(None, messages_page(&["m1", "m2"], true));
    let p2 = page(Some("m2"), messages_page(&["m3", "m4"], true));
    let p3 = page(Some("m4"), messages_page(&["m5"], false));

    let api = api(&server);
    let params = GetChatCompletionMessagesParams::new()
        .limit(2)
        .order(Order::Asc);
    let mut it = api.iter_chat_completion_messages("chat/cmpl 1", params.clone());
    assert_eq!((p1.calls(), p2.calls(), p3.calls()), (0, 0, 0));
    let first = it.next().unwrap().unwrap();
    assert_eq!(first.id, "m1");
    assert_eq!(first.message.content.as_deref(), Some("text of m1"));
    assert_eq!((p1.calls(), p2.calls(), p3.calls()), (1, 0, 0));
    assert_eq!(it.next().unwrap().unwrap().id, "m2");
    assert_eq!((p1.calls(), p2.calls(), p3.calls()), (1, 0, 0));
    assert_eq!(it.next().unwrap().unwrap().id, "m3");
    assert_eq!((p1.calls(), p2.calls(), p3.calls()), (1, 1, 0));
    let rest: Vec<_> = it.collect();
    assert_eq!(ids(&rest, |m| &m.id), ["m4", "m5"]);
    assert_eq!((p1.calls(), p2.calls(), p3.calls()), (1, 1, 1));

    // take(1) fetches page 1 only.
    let one: Vec<_> = api
        .iter_chat_completion_messages("chat/cmpl 1", params)
        .take(1)
        .collect();
    assert_eq!(ids(&one, |m| &m.id), ["m1"]);
    assert_eq!((p1.calls(), p2.calls(), p3.calls()), (2, 1, 1));
}

#[test]
fn an_error_on_page_two_yields_page_one_then_the_error_then_none() {
    let server = MockServer::start();
    let p1 = server.mock(|when, then| {
        when.path("/v1/chat/completions")
            .query_param_missing("after");
        then.status(200)
            .json_body(completions_page(&["c1", "c2"], true));
    });
    let p2 = server.mock(|when, then| {
        when.path("/v1/chat/completions").query_param("after", "c2");
        then.status(500)
            .header("x-request-id", "req_boom")
            .body(r#"{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}"#);
    });
    let p3 = server.mock(|when, then| {
        when.path("/v1/chat/completions").query_param("after", "c4");
        then.status(200).json_body(completions_page(&["c5"], false));
    });
    let mut it = api(&server).iter_chat_completions(ListChatCompletionsParams::new());
    assert_eq!(it.next().unwrap().unwrap().id, "c1");
    assert_eq!(it.next().unwrap().unwrap().id, "c2");
    let err = it.next().unwrap().unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert!(err.to_string().contains("The server had an error"), "{err}");
    assert!(it.next().is_none());
    assert!(it.next().is_none());
    assert_eq!((p1.calls(), p2.calls(), p3.calls()), (1, 1, 0));
}

#[test]
fn a_decode_error_on_page_two_of_messages_ends_the_iteration() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.path("/v1/chat/completions/cc/messages")
            .query_param_missing("after");
        then.status(200).json_body(messages_page(&["m1"], true));
    });
    let p2 = server.mock(|when, then| {
        when.path("/v1/chat/completions/cc/messages")
            .query_param("after", "m1");
        then.status(200).body("<html>gateway</html>");
    });
    let items: Vec<_> = api(&server)
        .iter_chat_completion_messages("cc", GetChatCompletionMessagesParams::new())
        .collect();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().unwrap().id, "m1");
    assert!(matches!(&items[1], Err(Error::Decode(_))), "{:?}", items[1]);
    p2.assert_calls(1);
}

#[test]
fn has_more_with_an_empty_page_stops() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.path("/v1/chat/completions");
        then.status(200)
            .body(r#"{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":true}"#);
    });
    let items: Vec<_> = api(&server)
        .iter_chat_completions(ListChatCompletionsParams::new())
        .collect();
    assert!(items.is_empty());
    mock.assert_calls(1);

    // An empty page with a cursor stops too: there is nothing to page past.
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.path("/v1/chat/completions/cc/messages");
        then.status(200)
            .body(r#"{"object":"list","data":[],"first_id":"m9","last_id":"m9","has_more":true}"#);
    });
    let items: Vec<_> = api(&server)
        .iter_chat_completion_messages("cc", GetChatCompletionMessagesParams::new())
        .collect();
    assert!(items.is_empty());
    mock.assert_calls(1);
}

#[test]
fn has_more_without_last_id_pages_on_the_last_item_id() {
    let server = MockServer::start();
    let p1 = server.mock(|when, then| {
        when.path("/v1/chat/completions")
            .query_param_missing("after");
        then.status(200).json_body(json!({
            "object": "list",
            "data": [completion("c1"), completion("c2")],
            "has_more": true
        }));
    });
    let p2 = server.mock(|when, then| {
        when.path("/v1/chat/completions").query_param("after", "c2");
        then.status(200).json_body(json!({
            "object": "list",
            "data": [completion("c3")],
            "first_id": null, "last_id": "", "has_more": false
        }));
    });
    let all: Vec<_> = api(&server)
        .iter_chat_completions(ListChatCompletionsParams::new())
        .collect();
    assert_eq!(ids(&all, |c| &c.id), ["c1", "c2", "c3"]);
    assert_eq!((p1.calls(), p2.calls()), (1, 1));
}

#[test]
fn a_server_that_ignores_the_cursor_does_not_loop_forever() {
    // Always the same page, `has_more: true`: with no `last_id`, and with one.
    for body in [
        json!({"object": "list", "data": [completion("c1")], "has_more": true}),
        completions_page(&["c1", "c2"], true),
    ] {
        let server = MockServer::start();
        let mock = server.mock(|when, then| {
            when.path("/v1/chat/completions");
            then.status(200).json_body(body.clone());
        });
        let n = api(&server)
            .iter_chat_completions(ListChatCompletionsParams::new())
            .take(100)
            .count();
        // Page 1, then page 2 (after its last id) repeats the cursor: the end.
        mock.assert_calls(2);
        assert_eq!(n, 2 * body["data"].as_array().unwrap().len());
    }
}

#[test]
fn a_server_that_cycles_cursors_does_not_loop_forever() {
    // Page A points to B, B points back to A.
    let server = MockServer::start();
    let a = server.mock(|when, then| {
        when.path("/v1/chat/completions")
            .query_param_missing("after");
        then.status(200)
            .json_body(completions_page(&["a1", "a2"], true));
    });
    let b = server.mock(|when, then| {
        when.path("/v1/chat/completions").query_param("after", "a2");
        then.status(200)
            .json_body(completions_page(&["b1", "b2"], true));
    });
    let back = server.mock(|when, then| {
        when.path("/v1/chat/completions").query_param("after", "b2");
        then.status(200)
            .json_body(completions_page(&["x1", "a2"], true));
    });
    let all: Vec<_> = api(&server)
        .iter_chat_completions(ListChatCompletionsParams::new())
        .take(100)
        .collect();
    assert_eq!(ids(&all, |c| &c.id), ["a1", "a2", "b1", "b2", "x1", "a2"]);
    a.assert_calls(1);
    b.assert_calls(1);
    back.assert_calls(1);
}

#[test]
fn pages_debug_shows_the_cursor_not_the_client() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.path("/v1/chat/completions");
        then.status(200)
            .json_body(completions_page(&["c1", "c2"], true));
    });
    let mut it = api(&server).iter_chat_completions(ListChatCompletionsParams::new());
    it.next().unwrap().unwrap();
    let dbg = format!("{it:?}");
    assert!(dbg.contains("buffered: 1"), "{dbg}");
    assert!(dbg.contains(r#"after: Some("c2")"#), "{dbg}");
    assert!(!dbg.contains(KEY), "{dbg}");
}

#[test]
fn pages_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let api = ChatApi::new(Config::new().api_key(KEY));
    assert_send(&api.iter_chat_completions(ListChatCompletionsParams::new()));
    assert_send(&api.iter_chat_completion_messages("x", GetChatCompletionMessagesParams::new()));
}

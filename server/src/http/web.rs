//! The web app: the page at `/`, its scripts and styles under `/assets/{build}/`, and
//! `/embed.js` for the `<conversational-bi-chat>` web component on other sites.
//!
//! The files of `server/web/` are compiled into the binary (no CDN, no build step at run time).
//! `{build}` is a hash of all of them, so a new release changes every asset URL: assets are
//! cached for a year (`immutable`), while `/` and `/embed.js` are revalidated by `ETag`. Text
//! assets are gzip-compressed once, on first use, and sent compressed to clients that accept
//! it.

use std::{collections::HashMap, io::Write, sync::OnceLock};

use axum::{
    Router,
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use sha2::{Digest, Sha256};

use super::AppState;

/// The files of the web app: (path under `/assets/{build}/`, content, content type).
const FILES: &[(&str, &[u8], &str)] = &[
    ("app.js", include_bytes!("../../web/app.js"), JS),
    ("chat.js", include_bytes!("../../web/chat.js"), JS),
    ("app.css", include_bytes!("../../web/app.css"), CSS),
    ("chat.css", include_bytes!("../../web/chat.css"), CSS),
    (
        "vendor/vega.min.js",
        include_bytes!("../../web/vendor/vega.min.js"),
        JS,
    ),
    (
        "vendor/vega-lite.min.js",
        include_bytes!("../../web/vendor/vega-lite.min.js"),
        JS,
    ),
    (
        "vendor/vega-embed.min.js",
        include_bytes!("../../web/vendor/vega-embed.min.js"),
        JS,
    ),
    (
        "vendor/vega-interpreter.js",
        include_bytes!("../../web/vendor/vega-interpreter.js"),
        JS,
    ),
];

const INDEX: &str = include_str!("../../web/index.html");

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

/// The page's Content-Security-Policy: scripts, styles, data and connections from this server
/// only; no `eval` (charts use Vega's expression interpreter); no framing. [`page_csp`] adds
/// the token endpoints of the identity providers to `connect-src`.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// [`PAGE_CSP`] whose `connect-src` also allows `origins` (each `scheme://host[:port]`, as
/// `url::Origin::ascii_serialization` writes it: no space, `;` or `,` can occur).
pub fn page_csp(origins: &[String]) -> String {
    let mut connect = String::from("connect-src 'self'");
    for origin in origins {
        connect.push(' ');
        connect.push_str(origin);
    }
    PAGE_CSP.replace("connect-src 'self'", &connect)
}

/// One file as served.
#[derive(Debug)]
struct Asset {
    body: Vec<u8>,
    gzip: Option<Vec<u8>>,
    content_type: &'static str,
    etag: String,
}

impl Asset {
    fn new(body: Vec<u8>, content_type: &'static str) -> Self {
        let etag = format!("\"{}\"", &hex(&Sha256::digest(&body))[..20]);
        let gzip = gzip(&body).filter(|z| z.len() + 64 < body.len());
        Self {
            body,
            gzip,
            content_type,
            etag,
        }
    }
}

#[derive(Debug)]
struct Web {
    build: String,
    assets: HashMap<&'static str, Asset>,
    index: Asset,
    embed: Asset,
}

fn web() -> &'static Web {
    static WEB: OnceLock<Web> = OnceLock::new();
    WEB.get_or_init(|| {
        let mut hash = Sha256::new();
        for (name, body, _) in FILES {
            hash.update(name.as_bytes());
            hash.update((body.len() as u64).to_le_bytes());
            hash.update(body);
        }
        hash.update(INDEX.as_bytes());
        let build = hex(&hash.finalize())[..12].to_string();
        let prefix = format!("/assets/{build}");
        let assets = FILES
            .iter()
            .map(|(name, body, ty)| (*name, Asset::new(body.to_vec(), ty)))
            .collect();
        let index = Asset::new(INDEX.replace("{{assets}}", &prefix).into_bytes(), HTML);
        let embed = Asset::new(
            format!(
                "// The <conversational-bi-chat> web component of this server (build {build}).\nimport \"{prefix}/chat.js\";\n"
            )
            .into_bytes(),
            JS,
        );
        Web {
            build,
            assets,
            index,
            embed,
        }
    })
}

/// The hash that names this build's assets (`/assets/{build}/...`).
pub fn build_id() -> &'static str {
    &web().build
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(body).ok()?;
    encoder.finish().ok()
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    == Some(0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

fn serve(asset: &Asset, headers: &HeaderMap, cache_control: &'static str) -> Response {
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == asset.etag));
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        match &asset.gzip {
            Some(z) if accepts_gzip(headers) => {
                let mut r = Body::from(z.clone()).into_response();
                r.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                r
            }
            _ => Body::from(asset.body.clone()).into_response(),
        }
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(etag) = HeaderValue::from_str(&asset.etag) {
        h.insert(header::ETAG, etag);
    }
    response
}

async fn index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let mut response = serve(&web().index, &headers, "no-cache");
    let h = response.headers_mut();
    let origins = state.auth().sign_in_origins();
    let csp = HeaderValue::from_str(&page_csp(&origins))
        .unwrap_or_else(|_| HeaderValue::from_static(PAGE_CSP));
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

async fn embed(headers: HeaderMap) -> Response {
    serve(&web().embed, &headers, "no-cache")
}

async fn asset(Path((build, path)): Path<(String, String)>, headers: HeaderMap) -> Response {
    let web = web();
    let Some(asset) = web.assets.get(path.as_str()) else {
        return super::error::ApiError::not_found(format!(
            "no web asset {path:?}; the page at / names the assets of this build"
        ))
        .into_response();
    };
    // A page of an earlier build asks for its own build's URLs: it gets today's file, not
    // cached, so that it works until it is reloaded.
    let cache = if build == web.build {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    serve(asset, &headers, cache)
}

/// The routes of the web app, merged into the API's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/embed.js", get(embed))
        .route("/assets/{build}/{*path}", get(asset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn the_page_may_call_the_token_endpoints_and_nothing_else() {
        assert_eq!(page_csp(&[]), PAGE_CSP);
        let csp = page_csp(&[
            "https://sso.example.com".into(),
            "http://127.0.0.1:8081".into(),
        ]);
        assert!(
            csp.contains("; connect-src 'self' https://sso.example.com http://127.0.0.1:8081; "),
            "{csp}"
        );
        assert_eq!(csp.matches("connect-src").count(), 1);
        assert!(
            csp.contains("script-src 'self';"),
            "scripts stay this server's"
        );
    }

    #[test]
    fn gzip_is_sent_only_to_clients_that_accept_it() {
        assert!(accepts_gzip(&headers(&[(
            header::ACCEPT_ENCODING,
            "gzip, deflate, br"
        )])));
        assert!(accepts_gzip(&headers(&[(
            header::ACCEPT_ENCODING,
            "br;q=1, GZIP;q=0.5"
        )])));
        assert!(!accepts_gzip(&headers(&[(
            header::ACCEPT_ENCODING,
            "gzip;q=0"
        )])));
        assert!(!accepts_gzip(&headers(&[(
            header::ACCEPT_ENCODING,
            "identity"
        )])));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn every_file_is_served_under_the_build_and_text_is_compressed() {
        let web = web();
        assert_eq!(web.build.len(), 12);
        for (name, body, _) in FILES {
            let asset = &web.assets[name];
            assert_eq!(asset.body, *body);
            let z = asset.gzip.as_ref().expect("text assets compress");
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&z[..]), &mut out)
                .expect("gunzip");
            assert_eq!(out, *body, "{name}");
        }
        let index = String::from_utf8(web.index.body.clone()).expect("utf-8");
        assert!(!index.contains("{{"), "every placeholder is filled");
        assert!(index.contains(&format!("/assets/{}/app.js", web.build)));
    }
}

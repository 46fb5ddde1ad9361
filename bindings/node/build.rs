//! Build script of the Node.js addon: napi-rs link settings.

fn main() {
    napi_build::setup();
}

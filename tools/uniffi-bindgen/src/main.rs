//! `uniffi-bindgen`: generates the foreign sources of `bindings/uniffi` from its compiled
//! library, e.g.
//! `uniffi-bindgen generate --library target/debug/libconversational_bi_ffi.so --language kotlin --out-dir out/kotlin`.

fn main() {
    uniffi::uniffi_bindgen_main()
}

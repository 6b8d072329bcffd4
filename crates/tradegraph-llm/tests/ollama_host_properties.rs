//! `OLLAMA_HOST` as Ollama's clients read it: any text gives a whole base URL that reads back
//! as itself, or an error naming the variable (the checks of the fuzz target `ollama_host`).
#![allow(clippy::unwrap_used)]

#[path = "fuzz_harness/ollama_host.rs"]
mod harness;

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_text_is_a_whole_url_or_an_error_naming_the_variable(value in "\\PC{0,40}") {
        let _ = harness::check(&value);
    }

    /// Whatever a value holds in its user, password, host or port, an error never repeats it.
    #[test]
    fn errors_never_repeat_the_value(
        secret in "[a-z]{12}",
        shape in 0usize..5,
    ) {
        let value = [
            format!("http://user:{secret}@gpu-box"),
            format!("{secret}:{secret}"),
            format!("gpu-box:{secret}"),
            format!("{secret}://gpu-box"),
            format!("[{secret}]:11434"),
        ][shape].clone();
        let err = harness::check(&value).unwrap_err();
        prop_assert!(!err.contains(&secret), "{value:?}: {err}");
    }

    #[test]
    fn host_and_port_shapes_read_as_ollama_reads_them(
        scheme in prop_oneof![Just(""), Just("http://"), Just("https://"), Just("ftp://")],
        host in prop_oneof![Just(""), Just("gpu-box"), Just("10.0.0.7"), Just("[::1]"), Just("::1")],
        port in prop_oneof![Just(None), Just(Some("11500")), Just(Some("")), Just(Some("99999")), Just(Some("x"))],
        path in prop_oneof![Just(""), Just("/ollama")],
    ) {
        let value = format!("{scheme}{host}{}{path}", port.map(|p| format!(":{p}")).unwrap_or_default());
        let _ = harness::check(&value);
    }
}

#[test]
fn the_shapes_ollama_documents() {
    for (value, url) in [
        ("", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://0.0.0.0:11434"),
        ("gpu-box:11500", "http://gpu-box:11500"),
        ("http://gpu-box", "http://gpu-box:80"),
        (
            "https://ollama.example.com/api-proxy",
            "https://ollama.example.com:443/api-proxy",
        ),
        ("[::1]", "http://[::1]:11434"),
        ("::1", "http://[::1]:11434"),
        ("  gpu-box  ", "http://gpu-box:11434"),
        ("\"gpu-box:11500\"", "http://gpu-box:11500"),
    ] {
        assert_eq!(harness::check(value).as_deref(), Ok(url), "{value:?}");
    }
    for (value, says) in [
        ("gpu-box:99999", "the port is not a number"),
        ("gpu-box:+80", "the port is not a number"),
        ("ftp://gpu-box", "the scheme is not http or https"),
        ("[::1:11434", "closing `]`"),
        ("[::1]x", "after the IPv6 address"),
        ("]::", "not an IPv6 address"),
        ("[gpu-box]:11434", "not an IPv6 address"),
        ("gpu-box#x", "not a host name"),
        ("http://me:s3cret@gpu-box", "credentials"),
    ] {
        let err = harness::check(value).unwrap_err();
        assert!(err.contains(says), "{value:?}: {err}");
    }
}

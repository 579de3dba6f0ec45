//! `keybound-op`: runs the reference OP on 127.0.0.1.
//!
//! Usage: `keybound-op [--port N] [--host NAME] [--es256] [--require-nonce] [--par] [--require-par] [--www DIR]
//! [--pkg DIR] [--cors ORIGIN]...`

use keybound_op::{start, Config};

fn main() {
    let mut config = Config { port: 8080, ..Config::default() };
    if let Some(p) = std::env::var("KEYBOUND_PORT").ok().and_then(|p| p.parse().ok()) {
        config.port = p;
    }
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().unwrap_or_else(|| fail(&format!("{name} needs a value")));
        match arg.as_str() {
            "--port" => config.port = value("--port").parse().unwrap_or_else(|_| fail("--port takes a number")),
            "--host" => config.host = value("--host"),
            "--es256" => config.es256 = true,
            "--require-nonce" => config.require_nonce = true,
            "--par" => config.par = true,
            "--require-par" => config.require_par = true,
            "--www" => config.www = Some(value("--www").into()),
            "--pkg" => config.pkg = Some(value("--pkg").into()),
            "--cors" => config.cors_origins.push(value("--cors")),
            "--client-id" => config.client_id = value("--client-id"),
            "--device-interval" => {
                config.device_interval = value("--device-interval").parse().unwrap_or_else(|_| fail("--device-interval takes a number"))
            }
            other => fail(&format!("unknown argument {other}")),
        }
    }
    let op = start(config).unwrap_or_else(|e| fail(&e));
    println!("keybound reference OP: {}/  (issuer {}, listening on 127.0.0.1:{})", op.issuer, op.issuer, op.port);
    op.wait();
}

fn fail(msg: &str) -> ! {
    eprintln!("keybound-op: {msg}");
    std::process::exit(2)
}

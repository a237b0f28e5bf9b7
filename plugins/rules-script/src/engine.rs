//! Compiling and running the admin's script with Rhai's limits, and turning
//! its errors into `file:line:column: message`.

use mtd_sdk::prelude::*;
use rhai::{Dynamic, Engine, EvalAltResult, Position, Scope, AST};

use crate::convert;
use crate::Settings;

/// Default Rhai operation budget per run.
pub const DEFAULT_MAX_OPERATIONS: u64 = 2_000_000;

/// A script failure, located in the script.
#[derive(Debug)]
pub struct ScriptError {
    pub file: String,
    pub position: Position,
    pub message: String,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.position.line(), self.position.position()) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

fn engine(s: &Settings) -> Engine {
    let mut e = Engine::new();
    let max_ops = s.max_operations.unwrap_or(DEFAULT_MAX_OPERATIONS);
    e.set_max_operations(max_ops);
    e.set_max_string_size(1 << 20);
    e.set_max_array_size(100_000);
    e.set_max_map_size(10_000);
    e.set_max_call_levels(64);
    e.set_max_expr_depths(64, 32);
    e.on_print(mtd_sdk::info);
    e.on_debug(|text, _, _| mtd_sdk::debug(text));
    // The more secure of a level and another (unit means "no requirement").
    e.register_fn("stricter", |current: Dynamic, wanted: &str| -> Dynamic {
        let want = ThreatLevel::parse(wanted);
        let cur = current.into_string().ok().and_then(|c| ThreatLevel::parse(&c));
        match (cur, want) {
            (Some(c), Some(w)) => Dynamic::from(if c <= w { c } else { w }.as_str().to_string()),
            (None, Some(w)) => Dynamic::from(w.as_str().to_string()),
            (Some(c), None) => Dynamic::from(c.as_str().to_string()),
            (None, None) => Dynamic::UNIT,
        }
    });
    e
}

fn error(file: &str, err: &EvalAltResult, max_ops: u64) -> ScriptError {
    let message = match err {
        EvalAltResult::ErrorTooManyOperations(_) => {
            format!("ran past its limit of {max_ops} operations (an endless loop?); raise max-operations if the rules need more")
        }
        EvalAltResult::ErrorDataTooLarge(what, _) => format!("built data over the script limits ({what})"),
        EvalAltResult::ErrorRuntime(v, _) => format!("failed: {v}"),
        EvalAltResult::ErrorStackOverflow(_) => "recursed too deeply".to_string(),
        other => other.to_string().split(" (line ").next().unwrap_or_default().to_string(),
    };
    ScriptError { file: file.to_string(), position: err.position(), message }
}

/// Compiles the script; returns the AST and its rule names in source order.
pub fn compile(s: &Settings) -> Result<(AST, Vec<String>), ScriptError> {
    let e = engine(s);
    let ast = e.compile(&s.script).map_err(|p| ScriptError {
        file: s.name().to_string(),
        position: p.position(),
        message: format!("syntax error: {}", p.err_type()),
    })?;
    let mut rules: Vec<(usize, String)> = ast
        .iter_functions()
        .filter(|f| f.name.starts_with("rule_") && f.params.len() == 2)
        .map(|f| (s.script.find(&format!("fn {}", f.name)).unwrap_or(usize::MAX), f.name.to_string()))
        .collect();
    rules.sort();
    Ok((ast, rules.into_iter().map(|(_, n)| n).collect()))
}

/// `rule_executives_secured` → "executives secured".
fn label(rule: &str) -> String {
    rule.trim_start_matches("rule_").replace('_', " ")
}

/// Runs every rule in order and reports what each changed.
pub fn run_rules(
    s: &Settings,
    policies: Vec<Policy>,
    tenant: &TenantContext,
    conditional_access: &[CaPolicy],
) -> Result<RulesOutput, ScriptError> {
    let (ast, rules) = compile(s)?;
    let e = engine(s);
    let max_ops = s.max_operations.unwrap_or(DEFAULT_MAX_OPERATIONS);
    let file = s.name();
    let to_dyn = |v: &serde_json::Value| {
        rhai::serde::to_dynamic(v).map_err(|e| ScriptError {
            file: file.into(),
            position: Position::NONE,
            message: e.to_string(),
        })
    };
    let tenant_dyn = to_dyn(&convert::tenant_value(tenant, conditional_access))?;
    let mut current: Vec<serde_json::Value> = policies.iter().map(convert::to_value).collect();
    let mut notes = Vec::new();
    for rule in &rules {
        let input = to_dyn(&serde_json::Value::Array(current.clone()))?;
        let mut scope = Scope::new();
        let out: Dynamic = e.call_fn(&mut scope, &ast, rule, (input, tenant_dyn.clone())).map_err(|err| {
            let mut e = error(file, &err, max_ops);
            e.message = format!("in {rule}: {}", e.message);
            e
        })?;
        let next: serde_json::Value = rhai::serde::from_dynamic(&out).map_err(|err| ScriptError {
            file: file.into(),
            position: Position::NONE,
            message: format!("{rule} must return the policies (an array of policy maps): {err}"),
        })?;
        let next = next.as_array().cloned().ok_or_else(|| ScriptError {
            file: file.into(),
            position: Position::NONE,
            message: format!(
                "{rule} must return the policies (an array), not {out_type}",
                out_type = out.type_name()
            ),
        })?;
        for after in &next {
            let name = after.get("name").and_then(|n| n.as_str()).unwrap_or("").to_string();
            match current
                .iter()
                .find(|b| b.get("name") == after.get("name") && b.get("platform") == after.get("platform"))
            {
                Some(before) => {
                    for change in convert::describe_changes(before, after) {
                        notes.push(ChangeNote { rule: label(rule), policy: name.clone(), message: change });
                    }
                }
                None => notes.push(ChangeNote {
                    rule: label(rule),
                    policy: name.clone(),
                    message: "added this policy".into(),
                }),
            }
        }
        current = next;
    }
    let mut out = Vec::new();
    for v in &current {
        out.push(convert::from_value(v).map_err(|m| ScriptError {
            file: file.into(),
            position: Position::NONE,
            message: m,
        })?);
    }
    Ok(RulesOutput { policies: out, notes, diagnostics: Vec::new() })
}

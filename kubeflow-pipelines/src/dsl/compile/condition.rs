//! Trigger conditions (CEL) of condition groups, as the SDK writes them.
#![allow(clippy::field_reassign_with_default)] // IR structs are filled field by field for clarity

use super::*;

impl Compiler<'_> {
    pub(super) fn condition_text(
        &mut self,
        group: usize,
        condition: &Condition,
    ) -> Result<String, DslError> {
        let mut operands = Vec::new();
        for source in [&condition.left, &condition.right] {
            let group_name = self.p.groups[group].name.clone();
            let invalid = |message: String| DslError::InvalidCondition {
                group: group_name.clone(),
                message,
            };
            let operand = match self.channel_of(&group_name, source)? {
                None => {
                    let Source::Constant(value) = source else {
                        continue;
                    };
                    match value {
                        Value::String(s) => (format!("'{s}'"), ParameterType::String),
                        Value::Bool(b) => (b.to_string(), ParameterType::Boolean),
                        Value::Number(n) if n.is_i64() || n.is_u64() => {
                            (n.to_string(), ParameterType::NumberInteger)
                        }
                        Value::Number(n) => (
                            python_float(n.as_f64().unwrap_or(0.0)),
                            ParameterType::NumberDouble,
                        ),
                        other => {
                            return Err(invalid(format!("cannot compare the constant {other}")));
                        }
                    }
                }
                Some(channel) => {
                    if let Channel::LoopItem {
                        field: Some(field), ..
                    } = &channel
                    {
                        return Err(invalid(format!(
                            "conditions on a field of a loop item ({field}) are not supported yet"
                        )));
                    }
                    let ty = match &channel {
                        Channel::Param { ty, .. }
                        | Channel::LoopItem { ty, .. }
                        | Channel::Output {
                            kind: IoKind::Parameter { ty, .. },
                            ..
                        } => ty.clone(),
                        Channel::OneOf { name, .. } => {
                            return Err(invalid(format!(
                                "{name}: conditions on dsl.OneOf are not supported"
                            )));
                        }
                        Channel::Collected { key, .. } => {
                            return Err(invalid(format!(
                                "collected output {key} is a list, conditions compare single values"
                            )));
                        }
                        Channel::Output { key, .. }
                        | Channel::InputArtifact { name: key, .. }
                        | Channel::LoopArtifact { name: key, .. } => {
                            return Err(invalid(format!(
                                "{key} is an artifact, conditions compare parameters"
                            )));
                        }
                    };
                    let mut text =
                        format!("inputs.parameter_values['{}']", self.channel_name(&channel));
                    if ty == ParameterType::NumberInteger {
                        text = format!("int({text})");
                    }
                    (text, ty)
                }
            };
            operands.push(operand);
        }
        let [(left, left_ty), (right, right_ty)] =
            <[(String, ParameterType); 2]>::try_from(operands).map_err(|_| {
                DslError::InvalidCondition {
                    group: self.p.groups[group].name.clone(),
                    message: "a condition compares two values".into(),
                }
            })?;
        let canonical = if left_ty == right_ty {
            left_ty.clone()
        } else if left_ty == ParameterType::String || right_ty == ParameterType::String {
            ParameterType::String
        } else if left_ty == ParameterType::Boolean || right_ty == ParameterType::Boolean {
            ParameterType::Boolean
        } else {
            ParameterType::NumberDouble
        };
        let cast = |text: String, ty: &ParameterType| -> String {
            if *ty == canonical {
                return text;
            }
            match canonical {
                ParameterType::String => format!("'{text}'"),
                ParameterType::Boolean => {
                    if text.parse::<f64>().map(|v| v == 0.0).unwrap_or(false) {
                        "true".into()
                    } else {
                        "false".into()
                    }
                }
                _ => format!("double({text})"),
            }
        };
        let left = cast(left, &left_ty);
        let right = cast(right, &right_ty);
        Ok(format!("{left} {} {right}", condition.operator))
    }
}

/// A float as Python's `str(float)` writes it (`2.0`, `0.5`).
fn python_float(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e16 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}

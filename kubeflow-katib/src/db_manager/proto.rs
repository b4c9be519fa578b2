//! Protobuf encoding of the few DB-manager messages (`api.v1.beta1`, Katib's `api.proto`).
//! They hold only strings and nested messages, so a small hand-written codec is enough.

/// One metric value at one time (`MetricLog` + `Metric`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricLog {
    /// When it was reported (RFC3339, as the DB manager stores it).
    pub time_stamp: String,
    /// Metric name.
    pub name: String,
    /// Value, as text (may be `"unavailable"`).
    pub value: String,
}

impl MetricLog {
    /// A log entry.
    pub fn new(
        time_stamp: impl Into<String>,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        MetricLog {
            time_stamp: time_stamp.into(),
            name: name.into(),
            value: value.into(),
        }
    }

    /// The value as a number (`None` for `"unavailable"` or non-numbers).
    pub fn value_f64(&self) -> Option<f64> {
        self.value
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A length-delimited field (strings, bytes, messages); proto3 omits empty strings.
fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8], keep_empty: bool) {
    if bytes.is_empty() && !keep_empty {
        return;
    }
    put_varint(out, (u64::from(field) << 3) | 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn encode_metric_log(log: &MetricLog) -> Vec<u8> {
    let mut metric = Vec::new();
    put_bytes(&mut metric, 1, log.name.as_bytes(), false);
    put_bytes(&mut metric, 2, log.value.as_bytes(), false);
    let mut out = Vec::new();
    put_bytes(&mut out, 1, log.time_stamp.as_bytes(), false);
    put_bytes(&mut out, 2, &metric, true);
    out
}

fn encode_observation_log(logs: &[MetricLog]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in logs {
        put_bytes(&mut out, 1, &encode_metric_log(l), true);
    }
    out
}

/// `GetObservationLogRequest{trial_name=1, metric_name=2, start_time=3, end_time=4}`.
pub(crate) fn encode_get_request(trial: &str, metric: &str, start: &str, end: &str) -> Vec<u8> {
    let mut out = Vec::new();
    put_bytes(&mut out, 1, trial.as_bytes(), false);
    put_bytes(&mut out, 2, metric.as_bytes(), false);
    put_bytes(&mut out, 3, start.as_bytes(), false);
    put_bytes(&mut out, 4, end.as_bytes(), false);
    out
}

/// `ReportObservationLogRequest{trial_name=1, observation_log=2}`.
pub(crate) fn encode_report_request(trial: &str, logs: &[MetricLog]) -> Vec<u8> {
    let mut out = Vec::new();
    put_bytes(&mut out, 1, trial.as_bytes(), false);
    put_bytes(&mut out, 2, &encode_observation_log(logs), true);
    out
}

/// `DeleteObservationLogRequest{trial_name=1}`.
pub(crate) fn encode_delete_request(trial: &str) -> Vec<u8> {
    let mut out = Vec::new();
    put_bytes(&mut out, 1, trial.as_bytes(), false);
    out
}

/// A protobuf decoding error: what was wrong and at which byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed protobuf at byte {offset}: {message}")]
pub struct DecodeError {
    offset: usize,
    message: &'static str,
}

/// A field number and, for length-delimited fields, its bytes.
type Field<'a> = (u32, Option<&'a [u8]>);

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn err(&self, message: &'static str) -> DecodeError {
        DecodeError {
            offset: self.pos,
            message,
        }
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| self.err("truncated varint"))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err("varint too long"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| self.err("field runs past the end"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// The next field: its number and, for length-delimited fields, its bytes (other wire
    /// types are skipped and give `None`).
    fn field(&mut self) -> Result<Option<Field<'a>>, DecodeError> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = u32::try_from(key >> 3).map_err(|_| self.err("field number out of range"))?;
        let value = match key & 7 {
            0 => {
                self.varint()?;
                None
            }
            1 => {
                self.take(8)?;
                None
            }
            2 => {
                let len =
                    usize::try_from(self.varint()?).map_err(|_| self.err("length out of range"))?;
                Some(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                None
            }
            _ => return Err(self.err("unsupported wire type")),
        };
        Ok(Some((field, value)))
    }
}

fn string(bytes: &[u8], at: usize) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError {
        offset: at,
        message: "string is not UTF-8",
    })
}

fn decode_metric_log(buf: &[u8]) -> Result<MetricLog, DecodeError> {
    let mut r = Reader { buf, pos: 0 };
    let mut log = MetricLog::default();
    while let Some((field, value)) = r.field()? {
        match (field, value) {
            (1, Some(b)) => log.time_stamp = string(b, r.pos)?,
            (2, Some(b)) => {
                let mut m = Reader { buf: b, pos: 0 };
                while let Some((f, v)) = m.field()? {
                    match (f, v) {
                        (1, Some(s)) => log.name = string(s, m.pos)?,
                        (2, Some(s)) => log.value = string(s, m.pos)?,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(log)
}

/// `GetObservationLogReply{observation_log=1{metric_logs=1[]}}`.
pub(crate) fn decode_get_reply(buf: &[u8]) -> Result<Vec<MetricLog>, DecodeError> {
    let mut out = Vec::new();
    let mut r = Reader { buf, pos: 0 };
    while let Some((field, value)) = r.field()? {
        if let (1, Some(log)) = (field, value) {
            let mut l = Reader { buf: log, pos: 0 };
            while let Some((f, v)) = l.field()? {
                if let (1, Some(entry)) = (f, v) {
                    out.push(decode_metric_log(entry)?);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_protoc() {
        // protoc --encode=api.v1.beta1.GetObservationLogRequest: trial_name: "t1" metric_name: "loss"
        assert_eq!(
            encode_get_request("t1", "loss", "", ""),
            b"\x0a\x02t1\x12\x04loss".to_vec()
        );
    }

    #[test]
    fn reply_round_trips_and_skips_unknown_fields() -> Result<(), DecodeError> {
        let logs = vec![
            MetricLog::new("2026-01-01T00:00:00Z", "loss", "0.5"),
            MetricLog::new("2026-01-01T00:00:01Z", "loss", "unavailable"),
        ];
        // A reply is an ObservationLog in field 1; add an unknown varint field 9 too.
        let mut reply = Vec::new();
        put_bytes(&mut reply, 1, &encode_observation_log(&logs), true);
        reply.extend_from_slice(&[0x48, 0x96, 0x01]);
        assert_eq!(decode_get_reply(&reply)?, logs);
        assert_eq!(logs[0].value_f64(), Some(0.5));
        assert_eq!(logs[1].value_f64(), None);
        Ok(())
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        let mut reply = Vec::new();
        put_bytes(
            &mut reply,
            1,
            &encode_observation_log(&[MetricLog::new("t", "n", "v")]),
            true,
        );
        for cut in 0..reply.len() {
            let _ = decode_get_reply(&reply[..cut]);
        }
        assert!(decode_get_reply(&[0x0a, 0x05, 0x01]).is_err());
    }
}

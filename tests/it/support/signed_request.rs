//! An AWS request as it crossed the wire, read the way AWS reads it: who signed it and
//! where (the SigV4 credential scope), and which operation it asks for, whatever the
//! service's protocol. The IAM tests judge what the binary did from these, never from the
//! binary's own account of its calls.

use super::http::Request;

/// One request, understood.
#[derive(Clone, Debug)]
pub struct SignedRequest {
    /// The service of the credential scope (`ecs`, `ec2`, `route53`, `sqs`, `sts`).
    pub service: String,
    /// The region of the credential scope: what `aws:RequestedRegion` is.
    pub region: String,
    /// The access key id that signed it: whose permissions apply.
    pub access_key: String,
    /// The operation, as the API names it (`DescribeTasks`).
    pub operation: String,
    /// The request line, for messages.
    pub method: String,
    pub path: String,
    /// The body as text (JSON, a form or XML, by protocol).
    pub body: String,
    /// For an AssumeRole that was answered with credentials: the access key id handed out.
    pub issued_key: Option<String>,
}

impl SignedRequest {
    /// Reads a request; the error names what could not be read.
    pub fn parse(request: &Request) -> Result<Self, String> {
        let line = format!("{} {}", request.method, request.path);
        let authorization = request
            .header("authorization")
            .ok_or_else(|| format!("{line}: not signed (no Authorization header)"))?;
        let credential = authorization
            .split("Credential=")
            .nth(1)
            .and_then(|rest| rest.split([',', ' ']).next())
            .ok_or_else(|| format!("{line}: no SigV4 credential in {authorization:?}"))?;
        // AKID/date/region/service/aws4_request
        let scope: Vec<&str> = credential.split('/').collect();
        let [access_key, _date, region, service, "aws4_request"] = scope[..] else {
            return Err(format!("{line}: a credential scope not shaped AKID/date/region/service/aws4_request: {credential:?}"));
        };
        let body = String::from_utf8_lossy(&request.body).into_owned();
        let operation = match request.header("x-amz-target") {
            // JSON protocols (ECS, SQS): `Service_Version.Operation`.
            Some(target) => target
                .rsplit('.')
                .next()
                .filter(|op| !op.is_empty())
                .ok_or_else(|| format!("{line}: an X-Amz-Target without an operation: {target:?}"))?
                .to_owned(),
            None if service == "route53" => route53_operation(&request.method, &request.path)?,
            // Query protocols (EC2, STS): `Action=` in the form body.
            None => form_value(&body, "Action").ok_or_else(|| {
                format!("{line}: neither an X-Amz-Target nor an Action= ({service})")
            })?,
        };
        Ok(SignedRequest {
            service: service.to_owned(),
            region: region.to_owned(),
            access_key: access_key.to_owned(),
            operation,
            method: request.method.clone(),
            path: request.path.clone(),
            body,
            issued_key: None,
        })
    }

    /// `service Operation`, for messages.
    pub fn name(&self) -> String {
        format!("{} {}", self.service, self.operation)
    }

    /// A value of the form body (query protocols).
    pub fn form(&self, name: &str) -> Option<String> {
        form_value(&self.body, name)
    }
}

/// Route 53's REST paths: `/2013-04-01/hostedzone/ID` and `.../ID/rrset`.
fn route53_operation(method: &str, path: &str) -> Result<String, String> {
    let resource = path.split('?').next().unwrap_or_default();
    let parts: Vec<&str> = resource
        .trim_start_matches("/2013-04-01/")
        .trim_end_matches('/')
        .split('/')
        .collect();
    let operation = match (method, parts.as_slice()) {
        ("GET", ["hostedzone", _]) => "GetHostedZone",
        ("GET", ["hostedzone", _, "rrset"]) => "ListResourceRecordSets",
        ("POST", ["hostedzone", _, "rrset"]) => "ChangeResourceRecordSets",
        _ => {
            return Err(format!(
                "{method} {path}: a Route 53 request the IAM tests do not know; add it"
            ))
        }
    };
    Ok(operation.to_owned())
}

/// The hosted zone id of a Route 53 REST path.
pub fn route53_zone(path: &str) -> Option<&str> {
    let rest = path.split('?').next()?.split("/hostedzone/").nth(1)?;
    rest.split('/').next().filter(|id| !id.is_empty())
}

/// A value of an `application/x-www-form-urlencoded` body, decoded.
pub fn form_value(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (percent_decode(key) == name).then(|| percent_decode(value))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = text.get(index + 1..index + 3);
        match (
            bytes[index],
            hex.and_then(|h| u8::from_str_radix(h, 16).ok()),
        ) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (b'+', _) => {
                decoded.push(b' ');
                index += 1;
            }
            (byte, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// The text of every `<tag>…</tag>` in `xml`, in order, entities decoded.
pub fn xml_texts<'a>(xml: &'a str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(open.as_str())
        .skip(1)
        .filter_map(|rest: &'a str| rest.split(close.as_str()).next())
        .map(|text| {
            text.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&")
        })
        .collect()
}

//! The API versions of `supported_api_versions` (MSC2764), as the codec reads and writes them.

/// `org.matrix.msc2974` in `supported_versions`: the client serves MSC2974.
pub const MSC2974: &str = "org.matrix.msc2974";

/// The versions the reference client advertises besides `org.matrix.msc2974`.
pub const API_VERSIONS: [&str; 5] = [
    "0.0.1",
    "0.0.2",
    "org.matrix.msc2762",
    "org.matrix.msc2871",
    "org.matrix.msc3819",
];

/**
 * A self-signed certificate for hooks.example.test (valid until 2126) and its key, used only by
 * webhook-http.test.ts to check that HTTPS deliveries verify certificates and send SNI.
 * Not a secret: it protects nothing and is trusted by nothing.
 */
export const TEST_TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgrwMS6E9YTs70TTaU
XMk/2HuKCKhtafujt0F89Lv7ANihRANCAAQA0K8nZ5SJ2IDENzVP1SX5HhN+E4AE
b9xdodjG74p/fH+cGUPRa11dxha42obmnJIanXU2NcoG6d9vwSUGGNHl
-----END PRIVATE KEY-----
`;

export const TEST_TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBrzCCAVagAwIBAgIUKWEBUgpnN+UWkF9Ksr4xeN5KDy4wCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSaG9va3MuZXhhbXBsZS50ZXN0MCAXDTI2MTEyNjAwMjM1NVoY
DzIxMjYxMTAyMDAyMzU1WjAdMRswGQYDVQQDDBJob29rcy5leGFtcGxlLnRlc3Qw
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQA0K8nZ5SJ2IDENzVP1SX5HhN+E4AE
b9xdodjG74p/fH+cGUPRa11dxha42obmnJIanXU2NcoG6d9vwSUGGNHlo3IwcDAd
BgNVHQ4EFgQU3qWTRq4K4vch308ahe3POiL1IiQwHwYDVR0jBBgwFoAU3qWTRq4K
4vch308ahe3POiL1IiQwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHREEFjAUghJob29r
cy5leGFtcGxlLnRlc3QwCgYIKoZIzj0EAwIDRwAwRAIgZLM7tkC2Kik9yMldOUhC
qEGmUwBmOD+GWG1QZ/SQLdECIDEa6+FmA2rkIxVr9ar/v/7zqEzK8KbIb7mQGBRU
7uSj
-----END CERTIFICATE-----
`;

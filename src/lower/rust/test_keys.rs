//! Key pairs for tests of services that sign tokens with EdDSA or RS256: the generated
//! crates' own tests and svcc's end-to-end tests use them. Test-only: they are public, so
//! they never protect anything.

/// Ed25519, PKCS#8 PEM.
pub const ED25519_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIDkdePBBSiJ/t6PrNKyRxwtFgLxwEli3VzWIlm3D9FH1
-----END PRIVATE KEY-----
";
pub const ED25519_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA94GoQ6nB154OFBk7XiVy3hvOuLi5oOb5E39brtDOJ6A=
-----END PUBLIC KEY-----
";
/// A second Ed25519 key, which the service must not accept.
pub const ED25519_OTHER_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEICCLnYi7Jqg9HNd8EQ+S0qhKAFjcPdkPSpJTV5FL5d5r
-----END PRIVATE KEY-----
";

/// RSA 2048, PKCS#8 PEM.
pub const RSA_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCOHNs/46Jbm2Fp
MWurivVCjgo0cz9ZoZ7aVBVqbHDH1VkUghihwf8CLThvFo9Tl+/e+QD38lljT23+
iN3h2ceapZYM6sXPpxy42Na36nCSKrCHZjj6g49hlFwEGptdLc7wQdN5qPtPq96r
LL/jnKk+tz+k8/MHHeR+TpOgQkDyHvE7q/+DXNAMHnYCeJ+/Wr+n+kxbU6Cujt34
6zj4BBIshdyhdXvvqBnzvVCjAyMHVqbYYXfQvj60/97lUDZCUHtL6ysJsQBP5Ku+
IMzFhEm4yr1QQBUpL5wCjvYuwrvAN1HNnx5OntKYhPc7d/xOiNYF0I70n/x3canI
6iDxfXyvAgMBAAECggEAQoO7EtImYZ3+H9AjxuyJEpeMqzPtyLPet+13AJK0zrNK
uFCT2tID2y7zJPt4JfYNLV16WJKzx8mbf/DreRQHWph5/J297A0ZYmMLTJWMDr2w
Vg9AR/BfoZpg3wLdCOWx373PjzfKOGYHGDMftRbUGCiIv1n2u7QACCYa7n1UDH5A
TXgVC5Qq0er/T+UPw/JAUNkR3XX5illytc29PoaLANV7G2pAFGiZ/0YbKbh1stXW
fkDqju1KK8J2jRfibTPRaTa1tx+JF/hGbfMW8cVZKv9rQxwH78eYj3ab6IQ1zH0h
tPJUAbS+Ij/UwiXvwcTJ+AzK4DkGSJ8wLeaJBqaCwQKBgQDHVUreaBrg69NwMGmB
oNVfZUB/1xDDKSfGgWWt0t3rnmtMhp4LiZinHw/3GJ+V1mFORN+NtJ8yR0jkAaZK
AvWhMKfUsWjlmwEti8SXzoC13ziYCedOWTEsheBniwSX/0Iuln3MQw08dys9YZIb
QNSCHw9XbJNbxBoVmViGlLizfwKBgQC2g0ceknnZCtiGPR3CUshOsRzkLlV32Xho
pQk7Y+DIs/1i6b10UNKnderwN7fdry9BRhz5JnzyWPHusQA9Swl5mngbyrnW6MFB
SXcoDhiZ5/RGEcpnmtW4wSy3zv1l/0KAdE4HjM5UKBPYpb9Wv7dmtLTw2bjyvjZ4
/GtnnB4O0QKBgBhoiE9tngT2u6BcPT8jS51vz5MX6bSMIJO9Go9LZ+NHNcpcHZQ6
GBg2xIS0Xi5B3w5vfpRijq/gbLuGvC8J57wCMjroMnkTHvTNzZftMHOUzuBHLiy4
3T2fcxgavMhD+H2t7d+KQl+qFABjJznxGVSJqx5AbFbrT2pfqahpI6jPAoGAfbCo
sMA1E6ipdsDuFp5F/hNxDx9tkqz8hCxr0C+3ZOC3dn/8Dfd/Kv5E/ouQnyV/CJfN
ajP8RjXE3xmcTZm4e7tKTfFtzDfcpyZ93eLfRFZ+XibwWitCVgsKzcbJsY158dam
ygJJMaGsET4MKCS9nAiEt31pJhqiju1e1iqodJECgYAgYxs0XcxgEOVZJqvAWQQ3
eJ6gwfecw7dmpXjFDw4Y2CxGSFidE6gUe2+nelsJMc7EFNr9/S7XJf2gB2eSuKUk
JMyJAvXZANYuD2Uu35AsXHa+KOFJAsNb1/ASxrd3d2x2fLsKuLSaNS2WVRBxyxPB
nU8nGXAvW8y7qshDgi27rQ==
-----END PRIVATE KEY-----
";
pub const RSA_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAjhzbP+OiW5thaTFrq4r1
Qo4KNHM/WaGe2lQVamxwx9VZFIIYocH/Ai04bxaPU5fv3vkA9/JZY09t/ojd4dnH
mqWWDOrFz6ccuNjWt+pwkiqwh2Y4+oOPYZRcBBqbXS3O8EHTeaj7T6veqyy/45yp
Prc/pPPzBx3kfk6ToEJA8h7xO6v/g1zQDB52Anifv1q/p/pMW1Ogro7d+Os4+AQS
LIXcoXV776gZ871QowMjB1am2GF30L4+tP/e5VA2QlB7S+srCbEAT+SrviDMxYRJ
uMq9UEAVKS+cAo72LsK7wDdRzZ8eTp7SmIT3O3f8TojWBdCO9J/8d3GpyOog8X18
rwIDAQAB
-----END PUBLIC KEY-----
";
/// A second RSA key, which the service must not accept.
pub const RSA_OTHER_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCd748nrSv0/m/H
sSQroO3Mt69P5+B02L7peCJJPpwfIfClEKxPEgh+ls18fo+9Jh9F5b5bQ+CXVX8F
IUgDbmYA5/Epzm8Qf4IzeMY/HS+VomrW2AGE8/atvW2iOG5hzNt7UBuFX41FFw50
WDZV1ifyG31qKRuWVm6naJIMRSGks0XTxLXgiqINSBE7kOuCtEuYo13Y4jy7s2od
b2uJgYxdLfLdZP9nstZ/MZsjI6THVMMzXQ4CQCz8H69FTssdP9OE+/RM+UWeZYbX
CAJ6Hw6eWH1ZC0n2wo180I7M5GdaLHF40IgLbHFYcdXsfiDS1q+0Pql6h4niSwx+
8eUITdzXAgMBAAECggEAKSls5XnYKX+AsYpk82v7Xi4HZmt4D+wHgcC6Kt3DAcgu
OE8KoYcBKMDz6DzyCGmdn/F7Nb0QlVCGjNc6Ng65TgYlT/CJ+MJKtFCHVp6sLrMI
Zlsgtj6BLZHft3Y+qoWiNFbR/WZEYtvZ/A+bha6NdaedfaQeGQYIy9/QpJsF5C8d
pf7qWimy+9MzxMWokGW7YnmF23K5PBstNwI3yI+WM/XGpeycGV/E9b4Fyc10oPYQ
S6tH8FzLAalDnLKpHkstcTD10mj5Eet3BRdL9dksiHYoZiXFHqSMqORVY+45RO8q
HBjREkxgc2FX8ajoaIofJ0BjSN+jj19qJBeSjfAphQKBgQDe+HaSW0/LcgtrKpNL
6aI42MyKbSNsv845/LYbK4OP4NuXlE56801SIBY6Ryp/OoEZZaJMyB3atOiNrbBo
3uh/YpJcUkE3Oy4omLf+l/c5b11jJfybcquItONahcTdQGngTqbMsYT2XjlBNy8d
jeYwKNb62NysutXc4HgsYZSmuwKBgQC1VNVRA88Yj2D0krgaz+3fk+dWZnA+TfpB
kDwImeSdiXGidbXeLgAmM+HawhIQpK9BAzhSRwFR8vrFYzeR4hJMbsEq4JNjgz6r
ClKMHu3oDwYe2T14QuH6yPIjczNlNpFS5MzjFvoL7bd8VJghRphb+Qh0z9xzwmcN
YRMVEPJWlQKBgQCTKZxg1sGgvoHI1o3nYal/KaA+kO/7m9DKNwAeiKbJtJhawDjY
L3NOC/1/s27aEEwa7hij4sTJj/OZZxTy8oSzZuTA6E1A3d+GTd3KvJQgpV8WzICg
PJv4m6MfIQEhIp1+vYqbuWLPlLrnTzvanshZ6uqRH8buflYe9Ux7xl/tdwKBgB8R
qv8XlPtTTbx6Cxtk9w/wypluMdsrBy8GpJKgs6AedZ7tZjzsStBA4XjW+btqTDDq
eVL3oY1GAZuidVoEjzgTXfuXwQky6qDpwt0JS6AQOu88L6EUbJ3Iolxal7rGz72R
QF3EiRFUKLUf1XUWIHLZx44kM1SOQZP0Rw27+pnFAoGAGJ9GoU4QOfU18g4vCcqN
NXfeyEL5rihCEm1mT2YAPheEQ1fBEKI6ZFOlkBokQWlHaizIWylsWnHIBUrFhIZ8
Bx2uZVQ64hmCWzR9yE5ZOO83K0sZ/EQaygouVp7bC09keFyG/4bHHA2Lyxtg2ej0
XjhlO/3hb+v4C+Lh4XlVdqA=
-----END PRIVATE KEY-----
";

/// Keys for one token algorithm of the spec.
#[derive(Debug, Clone, Copy)]
pub struct Keys {
    pub private: &'static str,
    pub public: &'static str,
    /// Another private key of the same kind, for forged tokens.
    pub other_private: &'static str,
}

/// The keys for `eddsa` or `rs256`; `None` for `hs256`, which signs with a shared secret.
pub fn for_algorithm(algorithm: &str) -> Option<Keys> {
    match algorithm {
        "eddsa" => Some(Keys {
            private: ED25519_PRIVATE,
            public: ED25519_PUBLIC,
            other_private: ED25519_OTHER_PRIVATE,
        }),
        "rs256" => Some(Keys {
            private: RSA_PRIVATE,
            public: RSA_PUBLIC,
            other_private: RSA_OTHER_PRIVATE,
        }),
        _ => None,
    }
}

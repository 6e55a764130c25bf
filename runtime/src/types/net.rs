//! `inet`, `cidr`, `macaddr` and `macaddr8`, in PostgreSQL's binary format.

use std::error::Error as StdError;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use bytes::{BufMut, BytesMut};
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};

use super::InvalidValue;

/// An IP address with the length of its netmask (its prefix): a value of an `inet` or a
/// `cidr` column. `10.1.2.3/8` is the host `10.1.2.3` on the network `10.0.0.0/8`; a bare
/// address is a prefix of its full length (`/32`, `/128`).
///
/// A `cidr` value is a network: no bit may be set to the right of its netmask
/// ([`IpNet::is_network`]). Sending one that has such bits to a `cidr` column is an error
/// before the statement reaches PostgreSQL, which names the value and its network.
///
/// It is written as PostgreSQL writes an `inet` (`10.1.2.3/8`, `192.168.0.1`: a full-length
/// prefix is left out) and read from that text or from a bare address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// `inet` values: an address and its netmask length.
pub type Inet = IpNet;

/// `cidr` values: a network, an address whose bits right of the netmask are zero.
pub type Cidr = IpNet;

/// PostgreSQL's address families in the binary format (`PGSQL_AF_INET`, `PGSQL_AF_INET6`).
const PGSQL_AF_INET: u8 = 2;
const PGSQL_AF_INET6: u8 = 3;

fn max_prefix(addr: &IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// `addr` with every bit right of the first `prefix` bits cleared.
fn masked(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
        }
    }
}

impl IpNet {
    /// `addr` with a netmask of `prefix` bits; a prefix longer than the address (33 for IPv4,
    /// 129 for IPv6) is an error.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, InvalidValue> {
        if prefix > max_prefix(&addr) {
            return Err(InvalidValue::new(format!(
                "netmask length {prefix} is longer than the {} bits of {addr}",
                max_prefix(&addr)
            )));
        }
        Ok(Self { addr, prefix })
    }

    /// The address.
    pub const fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The netmask length in bits.
    pub const fn prefix(&self) -> u8 {
        self.prefix
    }

    /// The network the address is on: the address with the bits right of the netmask
    /// cleared, and the same prefix (`10.1.2.3/8` → `10.0.0.0/8`).
    pub fn network(&self) -> Self {
        Self {
            addr: masked(self.addr, self.prefix),
            prefix: self.prefix,
        }
    }

    /// No bit right of the netmask is set: the value fits a `cidr` column.
    pub fn is_network(&self) -> bool {
        masked(self.addr, self.prefix) == self.addr
    }
}

impl From<IpAddr> for IpNet {
    /// The address alone: a netmask of its full length.
    fn from(addr: IpAddr) -> Self {
        Self {
            addr,
            prefix: max_prefix(&addr),
        }
    }
}

impl From<Ipv4Addr> for IpNet {
    /// The address alone: `/32`.
    fn from(addr: Ipv4Addr) -> Self {
        IpAddr::V4(addr).into()
    }
}

impl From<Ipv6Addr> for IpNet {
    /// The address alone: `/128`.
    fn from(addr: Ipv6Addr) -> Self {
        IpAddr::V6(addr).into()
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix == max_prefix(&self.addr) {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

impl FromStr for IpNet {
    type Err = InvalidValue;

    /// `10.1.2.3/8`, `2001:db8::/32`, or a bare address (a full-length netmask).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| InvalidValue::new(format!("`{s}` is not an IP address")))?;
        match prefix {
            None => Ok(addr.into()),
            Some(prefix) => {
                let prefix = prefix.parse::<u8>().map_err(|_| {
                    InvalidValue::new(format!("`{s}` has no netmask length after its `/`"))
                })?;
                Self::new(addr, prefix)
            }
        }
    }
}

impl ToSql for IpNet {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        let is_cidr = *ty == Type::CIDR;
        if is_cidr && !self.is_network() {
            return Err(format!(
                "`{}/{}` has bits set to the right of its netmask, which a cidr value cannot have; its network is `{}`",
                self.addr,
                self.prefix,
                self.network()
            )
            .into());
        }
        match self.addr {
            IpAddr::V4(a) => {
                out.put_slice(&[PGSQL_AF_INET, self.prefix, u8::from(is_cidr), 4]);
                out.put_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                out.put_slice(&[PGSQL_AF_INET6, self.prefix, u8::from(is_cidr), 16]);
                out.put_slice(&a.octets());
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INET || *ty == Type::CIDR
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for IpNet {
    fn from_sql(_ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        let [family, prefix, _is_cidr, len, addr @ ..] = raw else {
            return Err(format!("an inet value is at least 4 bytes, got {}", raw.len()).into());
        };
        let addr = match (*family, *len, addr) {
            (PGSQL_AF_INET, 4, &[a, b, c, d]) => IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
            (PGSQL_AF_INET6, 16, octets) => {
                let octets: [u8; 16] = octets.try_into().map_err(|_| {
                    format!(
                        "an IPv6 inet value has 16 address bytes, got {}",
                        octets.len()
                    )
                })?;
                IpAddr::V6(Ipv6Addr::from(octets))
            }
            _ => {
                return Err(format!("unknown inet address family {family} with {len} bytes").into())
            }
        };
        Ok(Self::new(addr, *prefix)?)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INET || *ty == Type::CIDR
    }
}

/// Writes `bytes` as lowercase hex pairs joined by `:`, as PostgreSQL writes MAC addresses.
fn write_hex_pairs(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            f.write_str(":")?;
        }
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

/// Reads `N` hex pairs separated by `:` or `-` (`08:00:2b:01:02:03`, `08-00-2B-01-02-03`).
fn parse_hex_pairs<const N: usize>(s: &str, what: &str) -> Result<[u8; N], InvalidValue> {
    let bad = || {
        InvalidValue::new(format!(
            "`{s}` is not a {what}: {N} hex pairs separated by `:` or `-`"
        ))
    };
    let mut bytes = [0_u8; N];
    let mut parts = s.split([':', '-']);
    for byte in &mut bytes {
        let part = parts.next().ok_or_else(bad)?;
        if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        *byte = u8::from_str_radix(part, 16).map_err(|_| bad())?;
    }
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(bytes)
}

macro_rules! mac_type {
    ($name:ident, $len:literal, $sql:literal, $ty:ident, $example:literal) => {
        #[doc = concat!("A `", $sql, "` value: ", stringify!($len), " bytes, written as PostgreSQL writes them (`", $example, "`).")]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// The address of these bytes.
            pub const fn new(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// The bytes.
            pub const fn octets(&self) -> [u8; $len] {
                self.0
            }
        }

        impl From<[u8; $len]> for $name {
            fn from(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_hex_pairs(f, &self.0)
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;

            #[doc = concat!("`", $example, "`, with `:` or `-` between the pairs.")]
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_hex_pairs::<$len>(s, concat!($sql, " address")).map(Self)
            }
        }

        impl ToSql for $name {
            fn to_sql(
                &self,
                _ty: &Type,
                out: &mut BytesMut,
            ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
                out.put_slice(&self.0);
                Ok(IsNull::No)
            }

            fn accepts(ty: &Type) -> bool {
                *ty == Type::$ty
            }

            to_sql_checked!();
        }

        impl<'a> FromSql<'a> for $name {
            fn from_sql(
                _ty: &Type,
                raw: &'a [u8],
            ) -> Result<Self, Box<dyn StdError + Sync + Send>> {
                let bytes: [u8; $len] = raw.try_into().map_err(|_| {
                    format!(
                        concat!("a ", $sql, " value is ", stringify!($len), " bytes, got {}"),
                        raw.len()
                    )
                })?;
                Ok(Self(bytes))
            }

            fn accepts(ty: &Type) -> bool {
                *ty == Type::$ty
            }
        }
    };
}

mac_type!(MacAddr, 6, "macaddr", MACADDR, "08:00:2b:01:02:03");
mac_type!(MacAddr8, 8, "macaddr8", MACADDR8, "08:00:2b:01:02:03:04:05");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_keeps_the_netmask() -> Result<(), InvalidValue> {
        let net: IpNet = "10.1.2.3/8".parse()?;
        assert_eq!(net.prefix(), 8);
        assert_eq!(net.to_string(), "10.1.2.3/8");
        assert!(!net.is_network());
        assert_eq!(net.network().to_string(), "10.0.0.0/8");
        assert_eq!("192.168.0.1".parse::<IpNet>()?.prefix(), 32);
        assert_eq!(
            "192.168.0.1/32".parse::<IpNet>()?.to_string(),
            "192.168.0.1"
        );
        assert_eq!(
            "2001:db8::/32".parse::<IpNet>()?.to_string(),
            "2001:db8::/32"
        );
        assert!("::/0".parse::<IpNet>()?.is_network());
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("10.0.0.0/".parse::<IpNet>().is_err());
        assert!("nope".parse::<IpNet>().is_err());
        Ok(())
    }

    #[test]
    fn mac_addresses_read_and_write_as_postgresql_does() -> Result<(), InvalidValue> {
        let mac: MacAddr = "08-00-2B-01-02-03".parse()?;
        assert_eq!(mac.octets(), [8, 0, 0x2b, 1, 2, 3]);
        assert_eq!(mac.to_string(), "08:00:2b:01:02:03");
        assert!("08:00:2b:01:02".parse::<MacAddr>().is_err());
        assert!("08:00:2b:01:02:03:04".parse::<MacAddr>().is_err());
        assert!("08:00:2b:01:02:0g".parse::<MacAddr>().is_err());
        assert!("08:00:2b:01:02:+3".parse::<MacAddr>().is_err());
        let mac8: MacAddr8 = "08:00:2b:01:02:03:04:05".parse()?;
        assert_eq!(mac8.to_string(), "08:00:2b:01:02:03:04:05");
        Ok(())
    }
}

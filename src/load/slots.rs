//! Initial slots of prog arrays and map-in-maps (`.maps` initialisers naming
//! programs or maps), written once every program is loaded. A prog-array
//! slot naming a program that was not loaded stays empty.

use crate::abi::map_type;
use crate::error::{Error, Result};
use crate::map::Map;
use crate::obj::{ObjectSpec, SlotTarget};
use crate::program::Program;
use std::os::fd::AsRawFd;

/// The fd a slot refers to, if that program or map was loaded.
fn slot_fd(programs: &[Program], maps: &[Map], spec: &ObjectSpec, t: &SlotTarget) -> Option<i32> {
    match t {
        SlotTarget::Program(n) => programs
            .iter()
            .find(|p| &p.name == n)
            .map(|p| p.fd().as_raw_fd()),
        SlotTarget::Map(n) => {
            let i = spec.maps.iter().position(|m| &m.symbol == n)?;
            maps.get(i).map(|m| m.fd().as_raw_fd())
        }
    }
}

/// Write every initial slot of `spec`'s maps (`maps` in spec order).
pub(super) fn fill(spec: &ObjectSpec, programs: &[Program], maps: &[Map]) -> Result<()> {
    for (mi, m) in spec.maps.iter().enumerate() {
        for (slot, target) in &m.init_slots {
            let Some(fd) = slot_fd(programs, maps, spec, target) else {
                if m.map_type == map_type::PROG_ARRAY {
                    log::debug!(
                        "map {}: slot {slot}: {target:?} not loaded; left empty",
                        m.name
                    );
                    continue;
                }
                return Err(Error::Invalid(format!(
                    "map {}: slot {slot}: {target:?} not found",
                    m.name
                )));
            };
            let key = slot.to_le_bytes();
            let val = (fd as u32).to_le_bytes();
            maps[mi]
                .map_fd()
                .update(&key, &val, 0)
                .map_err(|e| Error::Map {
                    map: m.name.clone(),
                    source: e,
                })?;
        }
    }
    Ok(())
}

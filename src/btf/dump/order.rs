//! Topological order of definitions: which types must be fully defined
//! before a given one (strong links: embedded, or anonymous and inline) and
//! which only need a forward declaration (weak links: through a pointer to
//! a named type).

use super::{emit, Dumper, ORDERED, ORDERING};
use crate::btf::{BtfError, Kind};

impl<'a> Dumper<'a> {
    /// Queue the definitions `id` needs, then `id` itself if it is a
    /// definition. Returns whether the link to `id` is strong.
    pub(super) fn order_type(&mut self, id: u32, through_ptr: bool) -> Result<bool, BtfError> {
        if self.order_state(id) == ORDERED {
            return Ok(true);
        }
        let t = self.ty(id)?;
        if self.order_state(id) == ORDERING {
            // A loop, fine when a forward declaration breaks it.
            if t.is_composite() && through_ptr && t.name_off != 0 {
                return Ok(false);
            }
            return Err(BtfError::BadType {
                id,
                offset: 0,
                what: "unsatisfiable type cycle (a type embeds itself)".into(),
            });
        }
        self.enter(id)?;
        let r = self.order_kind(&t, through_ptr);
        self.leave();
        r
    }

    fn order_kind(
        &mut self,
        t: &crate::btf::Type<'a>,
        through_ptr: bool,
    ) -> Result<bool, BtfError> {
        let id = t.id;
        match t.kind {
            Kind::Int | Kind::Float => {
                self.set_order_state(id, ORDERED);
                Ok(false)
            }
            Kind::Ptr => {
                let r = self.order_type(t.size_or_type, true);
                self.set_order_state(id, ORDERED);
                r
            }
            Kind::Array => match t.array() {
                Some(a) => self.order_type(a.elem_type, false),
                None => Ok(false),
            },
            Kind::Struct | Kind::Union => {
                if through_ptr && t.name_off != 0 {
                    return Ok(false);
                }
                self.set_order_state(id, ORDERING);
                for i in 0..t.vlen() {
                    self.order_type(emit::member_type(t, i), false)?;
                }
                if t.name_off != 0 {
                    self.queue.push(id);
                }
                self.set_order_state(id, ORDERED);
                Ok(true)
            }
            Kind::Enum | Kind::Enum64 | Kind::Fwd => {
                if t.name_off != 0 || !self.flag(id, super::REFERENCED) {
                    self.queue.push(id);
                }
                self.set_order_state(id, ORDERED);
                Ok(true)
            }
            Kind::Typedef => {
                let strong = self.order_type(t.size_or_type, through_ptr)?;
                if through_ptr && !strong {
                    return Ok(false);
                }
                self.queue.push(id);
                self.set_order_state(id, ORDERED);
                Ok(true)
            }
            Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.order_type(t.size_or_type, through_ptr)
            }
            Kind::FuncProto => {
                let mut strong = self.order_type(t.size_or_type, through_ptr)?;
                for i in 0..t.vlen() {
                    if self.order_type(emit::param_type(t, i), through_ptr)? {
                        strong = true;
                    }
                }
                Ok(strong)
            }
            Kind::Func | Kind::Var | Kind::Datasec | Kind::DeclTag | Kind::Void => {
                self.set_order_state(id, ORDERED);
                Ok(false)
            }
        }
    }
}

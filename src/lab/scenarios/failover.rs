use super::*;

pub fn run(r: &mut Rec<'_>) -> Result<()> {
    let _ = r;
    crate::lab::err("not yet")
}

use coord::hedge;

#[hedge(after = "p100")]
async fn a() -> Result<(), String> {
    Ok(())
}

#[hedge(after = "soon")]
async fn b() -> Result<(), String> {
    Ok(())
}

#[hedge(max_extra = 9)]
async fn c() -> Result<(), String> {
    Ok(())
}

#[hedge(delay = "5ms")]
async fn d() -> Result<(), String> {
    Ok(())
}

fn main() {}

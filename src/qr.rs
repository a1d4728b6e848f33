//! QR codes drawn in the terminal with Unicode half blocks: two modules a character cell, black on
//! white with explicit colours and a four-module quiet zone, so a phone reads them in dark and
//! light themes alike.

use anyhow::{Context, Result};
use qrcode::{Color, QrCode};

/// The quiet zone the QR specification asks for around the code, in modules.
const QUIET_ZONE: usize = 4;
/// Black text on white (bright white where the terminal has it), then back to the defaults.
const COLORS: &str = "\x1b[30;47;107m";
const RESET: &str = "\x1b[0m";

/// The code for `text` as terminal lines.
pub fn render(text: &str) -> Result<String> {
    let code = QrCode::new(text.as_bytes()).context("could not make a QR code")?;
    let width = code.width();
    let modules = code.to_colors();
    let size = width + 2 * QUIET_ZONE;
    let dark = |x: usize, y: usize| {
        let inside = |v: usize| (QUIET_ZONE..QUIET_ZONE + width).contains(&v);
        inside(x) && inside(y) && modules[(y - QUIET_ZONE) * width + (x - QUIET_ZONE)] == Color::Dark
    };
    let mut out = String::with_capacity(size * size * 2);
    for y in (0..size).step_by(2) {
        out.push_str(COLORS);
        for x in 0..size {
            out.push(match (dark(x, y), dark(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push_str(RESET);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the drawing back: each cell is two modules, the top and the bottom half.
    fn modules(drawing: &str) -> Vec<Vec<bool>> {
        let mut rows = Vec::new();
        for line in drawing.lines() {
            let cells: Vec<char> = line.trim_start_matches(COLORS).trim_end_matches(RESET).chars().collect();
            rows.push(cells.iter().map(|c| matches!(c, '█' | '▀')).collect());
            rows.push(cells.iter().map(|c| matches!(c, '█' | '▄')).collect());
        }
        rows
    }

    #[test]
    fn the_drawing_decodes_to_the_text() {
        let text = "otpauth://totp/Amazon%20Web%20Services:alice@123456789012?secret=ABCDEFGHIJKLMNOP&issuer=Amazon%20Web%20Services";
        let rows = modules(&render(text).unwrap());
        let scale = 4;
        let size = rows[0].len();
        let mut image =
            rqrr::PreparedImage::prepare_from_greyscale(size * scale, rows.len() * scale, |x, y| {
                if rows[y / scale][x / scale] { 0 } else { 255 }
            });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, decoded) = grids[0].decode().unwrap();
        assert_eq!(decoded, text);
        assert!(rows.iter().take(QUIET_ZONE).all(|row| row.iter().all(|dark| !dark)), "quiet zone on top");
    }
}

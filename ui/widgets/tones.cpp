// SPDX-License-Identifier: MIT
#include "tones.h"

#include <QGuiApplication>

#include <cmath>

namespace outbox::ui {

bool isDark(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightness() < 128;
}

QColor toneColour(Tone tone)
{
    return toneColour(tone, QGuiApplication::palette());
}

QColor toneColour(Tone tone, const QPalette &palette)
{
    const bool dark = isDark(palette);
    switch (tone) {
    case Tone::Good:
    case Tone::JsonString:
        return dark ? QColor(0x8f, 0xf0, 0xa4) : QColor(0x26, 0x80, 0x3a);
    case Tone::Warning:
    case Tone::JsonNumber:
        return dark ? QColor(0xff, 0xa3, 0x48) : QColor(0x9c, 0x5c, 0x00);
    case Tone::Bad:
        return dark ? QColor(0xff, 0x8a, 0x80) : QColor(0xc0, 0x1c, 0x28);
    case Tone::Info:
    case Tone::JsonKey:
        return dark ? QColor(0x8c, 0xb8, 0xf0) : QColor(0x1a, 0x5f, 0xb4);
    case Tone::JsonLiteral:
        return dark ? QColor(0xdc, 0x8a, 0xdd) : QColor(0x81, 0x3d, 0x9c);
    }
    return palette.color(QPalette::WindowText);
}

QString toneStyle(Tone tone, bool bold)
{
    return QStringLiteral("color: %1%2")
        .arg(toneColour(tone).name(), bold ? QStringLiteral("; font-weight: bold") : QString());
}

double contrastRatio(const QColor &a, const QColor &b)
{
    auto luminance = [](const QColor &c) {
        auto channel = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
        return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF());
    };
    const double la = luminance(a), lb = luminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

} // namespace outbox::ui

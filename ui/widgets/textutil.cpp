// SPDX-License-Identifier: MIT
#include "textutil.h"

#include "cloudevents.h"
#include "jsontext.h"

#include <QJsonDocument>
#include <QStringDecoder>

namespace outbox::ui {

QString longestLiteral(const QString &cause)
{
    QString best;
    for (const QString &part : cause.split(QLatin1Char('#'))) {
        const QString t = part.trimmed();
        if (t.size() > best.size())
            best = t;
    }
    return best.size() >= 3 ? best : QString();
}

QString oneLine(const QString &text, int max)
{
    QString out = text.left(max);
    for (QChar &c : out) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f || c.category() == QChar::Other_Format)
            c = QLatin1Char(' ');
    }
    if (text.size() > max)
        out += QStringLiteral("…");
    return out;
}

QString elideMiddle(const QString &text, int max)
{
    if (text.size() <= max)
        return oneLine(text, max);
    const int head = (max - 1) / 2;
    return oneLine(text.left(head), max) + QStringLiteral("…") + oneLine(text.right(max - 1 - head), max);
}

QString plainTooltip(const QString &text)
{
    return QStringLiteral("<p style='white-space:pre-wrap'>%1</p>").arg(text.left(2000).toHtmlEscaped());
}

QString hexDump(const QByteArray &data, int maxBytes)
{
    QString out;
    const int n = int(qMin<qsizetype>(data.size(), maxBytes));
    for (int row = 0; row < n; row += 16) {
        out += QStringLiteral("%1  ").arg(row, 8, 16, QLatin1Char('0'));
        QString ascii;
        for (int i = row; i < row + 16; ++i) {
            if (i < n) {
                const auto b = static_cast<unsigned char>(data.at(i));
                out += QStringLiteral("%1 ").arg(b, 2, 16, QLatin1Char('0'));
                ascii += (b >= 0x20 && b < 0x7f) ? QChar(b) : QLatin1Char('.');
            } else {
                out += QStringLiteral("   ");
            }
        }
        out += QLatin1Char(' ') + ascii + QLatin1Char('\n');
    }
    if (data.size() > n)
        out += QStringLiteral("… %1 more bytes\n").arg(data.size() - n);
    return out;
}

QString payloadText(const QByteArray &data, QString *kind)
{
    if (data.isEmpty()) {
        *kind = QStringLiteral("empty");
        return QString();
    }
    if (cloudevents::isValidJson(data)) {
        *kind = QStringLiteral("JSON");
        return indentJson(data);
    }
    auto decoder = QStringDecoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString text = decoder(data);
    if (!decoder.hasError()) {
        *kind = QStringLiteral("text");
        return text;
    }
    *kind = QStringLiteral("binary");
    return hexDump(data);
}

} // namespace outbox::ui

// SPDX-License-Identifier: MIT
#include "textutil.h"

#include "cloudevents.h"
#include "jsontext.h"

#include <QAbstractItemView>
#include <QHelpEvent>
#include <QLabel>
#include <QJsonDocument>
#include <QStringDecoder>
#include <QToolTip>

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

int fittingWidth(const QWidget *field, const QString &text)
{
    return field->fontMetrics().horizontalAdvance(text) + 2 * field->fontMetrics().averageCharWidth() + 30;
}

namespace {

class CutTextTips : public QObject
{
public:
    explicit CutTextTips(QAbstractItemView *view) : QObject(view), m_view(view) { }

    bool eventFilter(QObject *, QEvent *event) override
    {
        if (event->type() != QEvent::ToolTip)
            return false;
        const auto *help = static_cast<QHelpEvent *>(event);
        const QModelIndex index = m_view->indexAt(help->pos());
        if (!index.isValid() || index.data(Qt::ToolTipRole).isValid())
            return false; // the model's own tooltip
        const QString text = index.data(Qt::DisplayRole).toString();
        const int needed = m_view->fontMetrics().horizontalAdvance(text) + 2 * m_view->fontMetrics().averageCharWidth();
        if (text.isEmpty() || needed <= m_view->visualRect(index).width()) {
            QToolTip::hideText();
            return true; // whole already: no tooltip
        }
        QToolTip::showText(help->globalPos(), plainTooltip(text), m_view->viewport(), m_view->visualRect(index));
        return true;
    }

private:
    QAbstractItemView *m_view;
};

} // namespace

void showCutTextOnHover(QAbstractItemView *view)
{
    view->viewport()->installEventFilter(new CutTextTips(view));
}

namespace {
class CutLabelTips : public QObject
{
public:
    using QObject::QObject;
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        auto *label = qobject_cast<QLabel *>(watched);
        if (!label || event->type() != QEvent::ToolTip || !label->toolTip().isEmpty())
            return false;
        const QString text = label->text();
        if (text.isEmpty() || label->fontMetrics().horizontalAdvance(text) <= label->contentsRect().width())
            return false;
        QToolTip::showText(static_cast<QHelpEvent *>(event)->globalPos(), plainTooltip(text), label);
        return true;
    }
};
} // namespace

void showCutTextOnHover(QLabel *label)
{
    label->installEventFilter(new CutLabelTips(label));
}

} // namespace outbox::ui

// SPDX-License-Identifier: MIT
#include "hovertext.h"

#include "textutil.h"

#include <QAbstractItemView>
#include <QHelpEvent>
#include <QLabel>
#include <QToolTip>

namespace outbox::ui {

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

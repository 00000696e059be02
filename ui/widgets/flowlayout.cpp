// SPDX-License-Identifier: MIT
#include "flowlayout.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QStyle>
#include <QWidget>

namespace outbox::ui {

FlowLayout::FlowLayout(QWidget *parent, int spacing) : QLayout(parent), m_spacing(spacing)
{
    setContentsMargins(0, 0, 0, 0);
}

FlowLayout::~FlowLayout()
{
    while (QLayoutItem *item = takeAt(0))
        delete item;
}

void FlowLayout::addItem(QLayoutItem *item)
{
    m_items.append(item);
}

int FlowLayout::count() const
{
    return int(m_items.size());
}

QLayoutItem *FlowLayout::itemAt(int index) const
{
    return m_items.value(index);
}

QLayoutItem *FlowLayout::takeAt(int index)
{
    return index >= 0 && index < m_items.size() ? m_items.takeAt(index) : nullptr;
}

Qt::Orientations FlowLayout::expandingDirections() const
{
    return Qt::Horizontal;
}

bool FlowLayout::hasHeightForWidth() const
{
    return true;
}

int FlowLayout::heightForWidth(int width) const
{
    return arrange(QRect(0, 0, width, 0), false);
}

// The widest single item: the layout can be as narrow as that.
QSize FlowLayout::minimumSize() const
{
    QSize size;
    for (const QLayoutItem *item : m_items) {
        if (!item->isEmpty())
            size = size.expandedTo(item->minimumSize());
    }
    const QMargins m = contentsMargins();
    return size + QSize(m.left() + m.right(), m.top() + m.bottom());
}

// Everything on one line.
QSize FlowLayout::sizeHint() const
{
    int width = 0, height = 0, shown = 0;
    for (const QLayoutItem *item : m_items) {
        if (item->isEmpty())
            continue;
        const QSize hint = item->sizeHint().expandedTo(item->minimumSize());
        width += hint.width();
        height = qMax(height, hint.height());
        ++shown;
    }
    const QMargins m = contentsMargins();
    return QSize(width + gap() * qMax(0, shown - 1) + m.left() + m.right(), height + m.top() + m.bottom());
}

void FlowLayout::setGeometry(const QRect &rect)
{
    QLayout::setGeometry(rect);
    arrange(rect, true);
}

int FlowLayout::gap() const
{
    if (m_spacing >= 0)
        return m_spacing;
    const QWidget *w = parentWidget();
    return w ? w->style()->pixelMetric(QStyle::PM_LayoutHorizontalSpacing, nullptr, w) : 6;
}

int FlowLayout::arrange(const QRect &rect, bool apply) const
{
    const QRect area = rect.marginsRemoved(contentsMargins());
    const int space = gap();
    int y = area.y();
    QList<QLayoutItem *> line;
    int lineWidth = 0; // of the items on the line, with the gaps between them
    // Lays the collected line out at y, sharing the width left over among the items that may grow.
    auto flush = [&] {
        if (line.isEmpty())
            return;
        int growing = 0, height = 0;
        for (QLayoutItem *item : line) {
            if (item->expandingDirections() & Qt::Horizontal)
                ++growing;
            height = qMax(height, item->sizeHint().height());
        }
        const int spare = qMax(0, area.width() - lineWidth);
        int x = area.x(), given = 0;
        for (QLayoutItem *item : line) {
            int width = qMin(item->sizeHint().expandedTo(item->minimumSize()).width(), area.width());
            if (growing > 0 && (item->expandingDirections() & Qt::Horizontal)) {
                const int share = spare / growing + (given < spare % growing ? 1 : 0);
                width += share;
                ++given;
            }
            if (apply)
                item->setGeometry(QRect(x, y, width, height));
            x += width + space;
        }
        y += height + space;
        line.clear();
        lineWidth = 0;
    };
    for (QLayoutItem *item : m_items) {
        if (item->isEmpty())
            continue;
        const int width = qMin(item->sizeHint().expandedTo(item->minimumSize()).width(), area.width());
        const int needed = line.isEmpty() ? width : lineWidth + space + width;
        if (!line.isEmpty() && needed > area.width())
            flush();
        lineWidth = line.isEmpty() ? width : lineWidth + space + width;
        line.append(item);
    }
    flush();
    const int used = y > area.y() ? y - space - area.y() : 0;
    return used + contentsMargins().top() + contentsMargins().bottom();
}

QWidget *labelled(const QString &label, QWidget *field, QWidget *parent)
{
    auto *pair = new QWidget(parent);
    auto *row = new QHBoxLayout(pair);
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(new QLabel(label, pair));
    field->setParent(pair);
    row->addWidget(field, 1);
    return pair;
}

} // namespace outbox::ui

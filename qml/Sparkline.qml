import QtQuick
import QtQuick.Shapes
import Weir.Workbench

// A small line chart of one series (numbers; null leaves a gap-free skip) with its title
// and latest value, for throughput, busy time and watermark lag over time.
Item {
    id: chart
    property string title: ""
    property var values: []
    property color color: Theme.accent
    property var format: (v) => Math.round(v)
    property real minValue: 0  // the bottom of the chart; its top is the largest value (at least 1)
    implicitWidth: 220
    implicitHeight: 64

    readonly property var numbers: values.filter((v) => v !== null && v !== undefined)
    readonly property real maxValue: Math.max(1, ...numbers)
    readonly property var points: {
        const pts = []
        const n = values.length
        const w = plot.width, h = plot.height
        for (let i = 0; i < n; ++i) {
            const v = values[i]
            if (v === null || v === undefined) continue
            pts.push(Qt.point(n > 1 ? i * w / (n - 1) : w, h - (v - minValue) / (maxValue - minValue) * h))
        }
        return pts
    }

    Text {
        id: label
        text: chart.title + (chart.numbers.length ? "  " + chart.format(chart.numbers[chart.numbers.length - 1]) : "")
        font.pixelSize: 10
        color: Theme.textMuted
    }
    Rectangle {
        id: plot
        y: label.height + 2
        width: parent.width
        height: parent.height - y
        color: Theme.field
        border.color: Theme.panelBorder
        Shape {
            anchors.fill: parent
            visible: chart.points.length > 1
            ShapePath {
                strokeColor: chart.color
                strokeWidth: 1.5
                fillColor: "transparent"
                PathPolyline { path: chart.points }
            }
        }
        Text {
            visible: chart.points.length <= 1
            anchors.centerIn: parent
            text: chart.points.length === 1 ? "one sample" : "no data yet"
            font.pixelSize: 10
            color: Theme.textFaint
        }
    }
}

/// An append-only sequence stored in fixed-size chunks, so that a copy of the store shares all but
/// its last chunk: appending to a copy's log duplicates at most one chunk and the chunk list,
/// never the whole history. A plain array would be copied whole by the first append after any
/// copy, and the node copies the store for every snapshot and for readers off its loop.
package struct ChunkedLog<Element>: RandomAccessCollection {
    /// Elements per chunk: large enough that the chunk list stays short, small enough that copying
    /// one chunk is cheap.
    package static var chunkCapacity: Int { 4096 }

    private var chunks: [[Element]] = []
    package private(set) var count = 0

    package init() {}

    package init(_ elements: some Sequence<Element>) {
        for element in elements { append(element) }
    }

    package var startIndex: Int { 0 }
    package var endIndex: Int { count }

    package subscript(position: Int) -> Element {
        precondition(position >= 0 && position < count, "ChunkedLog: index \(position) out of 0..<\(count)")
        return chunks[position / Self.chunkCapacity][position % Self.chunkCapacity]
    }

    package mutating func append(_ element: Element) {
        if chunks.isEmpty || chunks[chunks.count - 1].count == Self.chunkCapacity {
            var chunk: [Element] = []
            chunk.reserveCapacity(Self.chunkCapacity)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(element)
        count += 1
    }
}

extension ChunkedLog: Equatable where Element: Equatable {
    package static func == (left: ChunkedLog, right: ChunkedLog) -> Bool { left.elementsEqual(right) }
}

extension ChunkedLog: Sendable where Element: Sendable {}

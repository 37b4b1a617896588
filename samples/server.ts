import { createServer } from 'node:http';

interface Greeting {
  name: string;
  count: number;
}

const greetings = new Map<string, Greeting>();

export function greet(name: string): string {
  const g = greetings.get(name) ?? { name, count: 0 };
  g.count += 1;
  greetings.set(name, g);
  return `Hello, ${name}! (${g.count})`;
}

createServer((req, res) => {
  const name = new URL(req.url ?? '/', 'http://localhost').searchParams.get('name') ?? 'world';
  res.end(greet(name));
}).listen(8080);
